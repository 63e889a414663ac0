"""The messages themselves: a plain-text and an HTML part in the workspace's brand.

Pure functions of their inputs (no store, no clock beyond what is passed), so the tests can
read exactly what a recipient gets. HTML templates render with Jinja2 autoescape: a
display name, a tree title or a review note written by a user is text, never markup. Header
values pass `one_line` first: a CR or LF in a display name would otherwise start a header of
its own (a `Bcc:` slipped into a name), so every control or line-separator character becomes
a space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

# The app's own blue (pwa/src/theme.ts) when a workspace chose no colour; white reaches 4.5:1 on it.
DEFAULT_COLOR = "#1d4ed8"
DEFAULT_ON_COLOR = "#ffffff"
HEADER_MAX = 150
# Lines up to SMTP's own limit: Python folds a header longer than 78 characters right after
# its name, which some readers show as a subject starting with a space. 7-bit: a body beyond
# ASCII goes quoted-printable or base64, so any server takes it, 8BITMIME or not.
POLICY = SMTP.clone(max_line_length=998, cte_type="7bit")

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
# Cc (controls, CR, LF, TAB), Zl/Zp (U+2028, U+2029) and NEL: anything a mail reader or a
# header parser might take for the end of a line.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def one_line(text: str, limit: int = HEADER_MAX) -> str:
    """`text` safe inside one header: line breaks and control characters become spaces."""
    flat = " ".join(_BREAKS.sub(" ", text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


@dataclass(frozen=True)
class MailBrand:
    """What a message shows of the workspace (from `api/brand`)."""

    name: str
    color: str
    on_color: str
    logo: tuple[bytes, str] | None  # bytes and content type, sent inline
    link_base: str  # the verified custom domain's https URL, else the instance's base URL


@dataclass(frozen=True)
class Draft:
    subject: str
    text: str
    html: str


def render(kind: str, brand: MailBrand, subject: str, button: tuple[str, str] | None, **values: Any) -> Draft:
    """Both parts of message `kind` (templates `{kind}.txt.j2` and `{kind}.html.j2`);
    `button` is the call to action `(label, url)`."""
    label, url = button or ("", "")
    common = {
        "subject": subject,
        "button_label": label,
        "button_url": url,
        **values,
    }
    shown = {
        "name": brand.name,
        "color": brand.color,
        "on_color": brand.on_color,
        "logo_src": "cid:" + LOGO_CID if brand.logo else None,
    }
    text = _ENV.get_template(f"{kind}.txt.j2").render(brand=shown, **common)
    html = _ENV.get_template(f"{kind}.html.j2").render(brand=shown, **common)
    return Draft(one_line(subject, 200), text, html)


LOGO_CID = "logo@branchline"


def build(
    draft: Draft, brand: MailBrand, *, sender: str, to_addr: str, to_name: str, when: Any
) -> tuple[str, bytes]:
    """The message as sent: `(Message-ID, bytes)`. The logo travels inline (multipart/related),
    so it shows without the reader fetching anything."""
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = draft.subject
    msg["From"] = Address(display_name=one_line(brand.name), addr_spec=sender)
    msg["To"] = Address(display_name=one_line(to_name), addr_spec=to_addr)
    msg["Date"] = format_datetime(when)
    message_id = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a robot
    msg.set_content(draft.text)
    msg.add_alternative(draft.html, subtype="html")
    if brand.logo:
        data, mime = brand.logo
        maintype, _, subtype = mime.partition("/")
        html_part = msg.get_body(("html",))
        assert isinstance(html_part, EmailMessage)  # the alternative added just above
        html_part.add_related(data, maintype=maintype, subtype=subtype, cid=f"<{LOGO_CID}>", filename="logo")
    return message_id, msg.as_bytes()
