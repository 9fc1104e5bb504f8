"""gaitscope's app: ``streamlit run ui/app.py`` (or ``./run app``).

A thin page: it opens the library, shows the sidebar, and routes to the new-analysis page,
the progress of a running analysis, or the review of a finished one. The work is in
``ui/app_*.py``, ``ui/library.py`` and the player component ``ui/player/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # `streamlit run ui/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

from metrics.errors import GaitscopeError  # noqa: E402
from ui.app_errors import log_unexpected  # noqa: E402
from ui.app_state import close_analysis, library, open_id, show_flash  # noqa: E402
from ui.app_text import md  # noqa: E402
from ui.library import default_data_dir  # noqa: E402

_CSS = """
<style>
[data-testid="stMetricValue"] { font-variant-numeric: tabular-nums; font-size: 1.45rem; }
[data-testid="stMetricLabel"] p { font-size: .8rem; letter-spacing: .02em; opacity: .8; }
.block-container { padding-top: 2.2rem; max-width: 1500px; }
iframe[title="ui.player.gaitscope_player"], iframe[title*="gaitscope_player"] { border-radius: 8px; }
</style>
"""


def main() -> None:
    st.set_page_config(page_title="gaitscope", page_icon="🏃", layout="wide")
    st.markdown(_CSS, unsafe_allow_html=True)
    try:
        lib = library()
    except GaitscopeError as exc:
        st.error(f"**The library cannot be opened.** {md(exc)}")
        st.stop()
    from ui.app_upload import new_analysis_view, progress_view, rerun_view
    from ui.app_views import review_view, show_toast, sidebar

    current = open_id()
    rec = lib.analysis(current) if current else None
    if current and rec is None:
        close_analysis()
        st.warning("That analysis is no longer in the library.")
    sidebar(lib, rec.id if rec else None)
    show_flash()
    show_toast()
    if rec is None:
        new_analysis_view(lib)
    elif rec.status == "running":
        progress_view(lib, rec)
    elif rec.status == "failed":
        rerun_view(lib, rec)
    else:
        review_view(lib, rec)


try:
    main()
except GaitscopeError as exc:
    st.error(md(exc))
except Exception as exc:  # noqa: BLE001 - never a raw traceback on the page
    code = log_unexpected(default_data_dir() / "logs" / "errors.log", exc, context="page")
    st.error(f"Something went wrong inside gaitscope (error {code}). Nothing in your library was changed. "
             f"The details are in {default_data_dir() / 'logs' / 'errors.log'}; reload the page to go on.")
