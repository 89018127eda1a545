"""Text a job controls (its log, a file name or message it chose) made safe to print on a terminal.

A job's output may hold escape sequences that set the terminal's title, write its clipboard (OSC 52),
make hyperlinks, move the cursor over earlier lines or hide text. What runner prints of it keeps tabs,
newlines, carriage returns (progress bars) and SGR colour sequences (``ESC [ params m``: tqdm's and
rich's colours), and shows every other control character as its Python escape, ``\\x1b`` for ESC
(so an OSC, a DCS or a cursor-moving CSI is printed as harmless text: ``\\x1b]0;title\\x07``):

- C0 controls but ``\\t``, ``\\n``, ``\\r``; DEL; the C1 controls U+0080-U+009F (an 8-bit CSI, OSC...);
- an ESC that does not start an SGR sequence of at most ``SGR_LONGEST`` parameter characters, and the
  ESC of one that turns on concealed (invisible) text, parameter 8 (``38;5;8``, a colour, is kept).

    safe_log_text("\\x1b[31mred\\x1b[0m \\x1b]0;hi\\x07")  # '\\x1b[31mred\\x1b[0m \\\\x1b]0;hi\\\\x07'
    log = LogFilter(); log.feed(b"\\x1b[3") + log.feed(b"1m") + log.finish()   # '\\x1b[31m'

``LogFilter`` does it to a byte stream in chunks, in bounded memory: a chunk's last bytes are held back
only while they may still become an SGR sequence (at most ``SGR_LONGEST`` + 2 characters) or a UTF-8
character (at most 3 bytes). ``safe_field_text`` is the stricter form for stored text shown in a field
or a message (``job show``, a table, an error): tabs and newlines kept, every other control escaped.
"""

from __future__ import annotations

import codecs
import re

from runner.lazy_re import on_first_use

SGR_LONGEST = 64  # parameter characters an SGR sequence may have and still be kept


# every control but \t \n \r and ESC (whose sequences are read apart)
_other_re = on_first_use(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


# an ESC that does not start a (short) SGR sequence; an SGR sequence with a parameter 8 in it (conceal,
# or a colour's argument: _conceals tells). Both begin with a literal ESC: re finds them at C speed.
_bad_esc_re = on_first_use(rf"\x1b(?!\[[0-9;:]{{0,{SGR_LONGEST}}}m)")


_may_conceal_re = on_first_use(rf"\x1b\[(?=[0-9;:]{{0,{SGR_LONGEST}}}m)"
                               r"((?:[0-9:]*;)*?0*8(?![0-9])[0-9;:]*)m")  # a parameter that is 8 (or 08, 8:x)


# what may still become an SGR sequence once the next chunk comes (matched from its ESC to the end)
_sgr_start_re = on_first_use(rf"\x1b(?:\[[0-9;:]{{0,{SGR_LONGEST}}})?")


_field_unsafe_re = on_first_use(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# the items after a colour's form in its semicolon form: 38;5;<n> and 38;2;<r>;<g>;<b>
_COLOUR_ARGS = {"5": 1, "2": 3}
# a log chunk's bytes: 0 for a C0 control but \t \n \r ESC, and DEL (a C1 control is b"\xc2\x80"-b"\xc2\x9f")
_CONTROL_BYTES = bytes(0 if (byte < 0x20 and byte not in b"\t\n\r\x1b") or byte == 0x7f else 1
                       for byte in range(256))


_c1_bytes_re = on_first_use(rb"\xc2[\x80-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _conceals(params: str) -> bool:
    """Whether SGR ``params`` turn on concealed text: a parameter 8 that is no colour's argument."""
    items = params.split(";")
    index = 0
    while index < len(items):
        head = items[index].split(":", 1)[0]
        if head in ("38", "48", "58") and ":" not in items[index] and index + 1 < len(items):
            index += 2 + _COLOUR_ARGS.get(items[index + 1], -1)  # an unknown form: its next item is read
            continue
        if head.isdigit() and int(head) == 8:
            return True
        index += 1
    return False


def _unconcealed(match: re.Match[str]) -> str:
    return "\\x1b" + match.group()[1:] if _conceals(match.group(1)) else match.group()


def _sequences_shown(text: str) -> str:
    """``text`` with every ESC but an SGR sequence's (not concealing) shown as ``\\x1b``."""
    if "\x1b" not in text:
        return text
    return _bad_esc_re().sub(r"\\x1b", _may_conceal_re().sub(_unconcealed, text))


def safe_log_text(text: str) -> str:
    """``text`` (a whole piece of a job's log) with every control but ``\\t``, ``\\n``, ``\\r`` and SGR
    colour sequences shown as its escape (``\\x1b``)."""
    return _sequences_shown(_other_re().sub(_escaped, text))


def safe_field_text(text: str) -> str:
    """``text`` (stored text a job may have chosen: an error, a name) with every control but ``\\t`` and
    ``\\n`` shown as its escape: no colour, no carriage return (it would hide the start of the line)."""
    return _field_unsafe_re().sub(_escaped, text)


class LogFilter:
    """A job's log, bytes in chunks, as terminal-safe text (``safe_log_text``); a UTF-8 character or an
    escape sequence split across two chunks is read whole. ``finish`` gives what is still held back.
    A chunk's bytes tell cheaply whether it holds a control other than ESC (most do not): only then is
    its text searched for one."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""
        self._lead = False  # the last chunk ended with b"\xc2": a C1 control's first byte, maybe

    def feed(self, chunk: bytes) -> str:
        others = self._has_controls(chunk)
        text = self._held + self._decoder.decode(chunk)
        self._held = ""
        start = text.rfind("\x1b", max(0, len(text) - SGR_LONGEST - 2))
        if start >= 0 and _sgr_start_re().fullmatch(text, start):
            text, self._held = text[:start], text[start:]
        return _sequences_shown(_other_re().sub(_escaped, text) if others else text)

    def finish(self) -> str:
        """The rest (an escape sequence or a UTF-8 character the log ended inside), shown as it is."""
        text = self._held + self._decoder.decode(b"", final=True)
        self._held, self._lead = "", False
        self._decoder.reset()
        return safe_log_text(text)

    def _has_controls(self, chunk: bytes) -> bool:
        """Whether ``chunk`` decodes to a control other than \\t, \\n, \\r and ESC (or may: a C1 control
        cut after its first byte)."""
        if not chunk:
            return False
        cut = self._lead and 0x80 <= chunk[0] <= 0x9f
        self._lead = chunk.endswith(b"\xc2")
        return (cut or b"\x00" in chunk.translate(_CONTROL_BYTES)
                or (b"\xc2" in chunk and _c1_bytes_re().search(chunk) is not None))
