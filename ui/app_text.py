"""Text from users and files shown in the page: escaped so Streamlit's Markdown shows it as typed.

Streamlit renders ``st.markdown``, ``st.caption``, ``st.error`` and friends as Markdown
(no raw HTML, but links, images, LaTeX ``$...$``, ``:color[...]`` directives and
``:material/...:`` icons). A runner named ``![x](http://tracker/p.png)`` or a clip named
``[click](http://elsewhere)`` must appear as those characters, not as an image loaded
from elsewhere or a link. :func:`md` backslash-escapes the marks that make links, images,
emphasis, code, HTML, LaTeX, tables and headings, and folds line breaks into spaces;
ordinary names (``Ann's run 2.mp4``) are left as they are.
"""

from __future__ import annotations

import re

__all__ = ["md"]

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|<>~$])")


def md(text: object) -> str:
    r"""``text`` as literal Markdown.

    >>> md("![x](http://e.com/p.png) **Ann** $5")
    '\\!\\[x\\]\\(http://e.com/p.png\\) \\*\\*Ann\\*\\* \\$5'
    >>> md("Ann's run 2.mp4")
    "Ann's run 2.mp4"
    """
    s = " ".join(str(text).splitlines())
    return _SPECIAL.sub(r"\\\1", s)
