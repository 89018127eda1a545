"""``runner.terminal_text``: what runner prints of a job's log keeps tabs, newlines, carriage returns and SGR
colours, and shows every other control character (OSC, DCS, a CSI that is not SGR, a bare ESC, BEL,
backspace, DEL, C1) as its ``\\xNN`` escape; ``LogFilter`` does the same to chunks split anywhere, in a
UTF-8 character or an escape sequence, holding back only a few characters."""

from __future__ import annotations

import pytest

from runner.terminal_text import SGR_LONGEST, LogFilter, safe_field_text, safe_log_text

HOSTILE = {
    "title (OSC 0, BEL)": ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    "title (OSC 2, ST)": ("\x1b]2;pwned\x1b\\", "\\x1b]2;pwned\\x1b\\"),
    "clipboard (OSC 52)": ("\x1b]52;c;Y3VybCBldmlsfHNo\x07", "\\x1b]52;c;Y3VybCBldmlsfHNo\\x07"),
    "hyperlink (OSC 8)": ("\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
                          "\\x1b]8;;https://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\"),
    "DCS": ("\x1bP+q544e\x1b\\", "\\x1bP+q544e\\x1b\\"),
    "cursor up, erase line": ("\x1b[1A\x1b[2K", "\\x1b[1A\\x1b[2K"),
    "clear screen": ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
    "hide cursor (private CSI)": ("\x1b[?25l", "\\x1b[?25l"),
    "SGR with an intermediate": ("\x1b[1 m", "\\x1b[1 m"),
    "bare ESC, ESC c (reset)": ("a\x1bb\x1bc", "a\\x1bb\\x1bc"),
    "BEL, backspace, DEL": ("\x07x\x08\x08y\x7f", "\\x07x\\x08\\x08y\\x7f"),
    "NUL, VT, FF, SO": ("\x00\x0b\x0c\x0e", "\\x00\\x0b\\x0c\\x0e"),
    "C1 CSI and OSC (decoded)": ("\x9b2J\x9d0;t\x9c", "\\x9b2J\\x9d0;t\\x9c"),
    "conceal (SGR 8)": ("\x1b[8msecret\x1b[0m", "\\x1b[8msecret\x1b[0m"),
    "conceal among others": ("\x1b[1;08;31mx", "\\x1b[1;08;31mx"),
    "conceal after a colour": ("\x1b[38;5;1;8mx", "\\x1b[38;5;1;8mx"),
}

KEPT = ["plain text", "tab\tnewline\n", "progress 10%\rprogress 20%\r", "\x1b[0m", "\x1b[m",
        "\x1b[1;31mred bold\x1b[0m", "\x1b[38;5;8mgrey (256 colours)\x1b[39m",
        "\x1b[38;2;8;8;8mtrue colour\x1b[0m", "\x1b[38:2::255:0:8mcolon form\x1b[0m",
        "\x1b[48;5;28mgreen background\x1b[49m", "\x1b[28mrevealed", "ünïcödé ✓ 😀"]


@pytest.mark.parametrize("name", HOSTILE)
def test_every_other_control_is_shown_as_its_escape(name: str) -> None:
    raw, shown = HOSTILE[name]
    assert safe_log_text(raw) == shown


@pytest.mark.parametrize("text", KEPT)
def test_whitespace_sgr_colours_and_unicode_are_kept(text: str) -> None:
    assert safe_log_text(text) == text


def test_an_overlong_sgr_is_not_kept() -> None:
    longest = "\x1b[" + "1;" * (SGR_LONGEST // 2 - 1) + "1m"
    assert safe_log_text(longest) == longest
    assert safe_log_text("\x1b[" + "1;" * SGR_LONGEST + "1m").startswith("\\x1b[1;1;")


def test_the_result_has_no_escape_but_sgr_and_filtering_twice_changes_nothing() -> None:
    text = "".join(raw for raw, _ in HOSTILE.values()) + "".join(KEPT)
    once = safe_log_text(text)
    assert safe_log_text(once) == once
    assert once.replace("\x1b[", "").count("\x1b") == 0


def test_a_field_keeps_tabs_and_newlines_only() -> None:
    assert safe_field_text("a\tb\nc") == "a\tb\nc"
    assert safe_field_text("err\x1b[31m red\r\x1b]0;t\x07\x9b") == "err\\x1b[31m red\\x0d\\x1b]0;t\\x07\\x9b"


SAMPLE = ("epoch 1 \x1b[32mok\x1b[0m é 😀\r\x1b]0;title\x07 \x1b[1A\x1b[8mhidden\x1b[38;5;8mgrey\n"
          "\x9b\x1b[?1049h end \x1b").encode()


def _fed(chunks: list[bytes]) -> str:
    log = LogFilter()
    return "".join(log.feed(chunk) for chunk in chunks) + log.finish()


def test_chunks_split_anywhere_give_what_the_whole_log_gives() -> None:
    whole = safe_log_text(SAMPLE.decode())
    assert "\x1b[32m" in whole and "\\x1b]0;title" in whole and whole.endswith("end \\x1b")
    for cut in range(len(SAMPLE) + 1):
        assert _fed([SAMPLE[:cut], SAMPLE[cut:]]) == whole, cut
    for first in range(0, len(SAMPLE), 7):
        for second in range(first, len(SAMPLE), 5):
            assert _fed([SAMPLE[:first], SAMPLE[first:second], SAMPLE[second:]]) == whole, (first, second)
    assert _fed([SAMPLE[i:i + 1] for i in range(len(SAMPLE))]) == whole


def test_an_sgr_split_across_chunks_is_kept_and_a_split_osc_is_still_shown() -> None:
    log = LogFilter()
    assert log.feed(b"red \x1b") == "red "
    assert log.feed(b"[3") == ""
    assert log.feed(b"1mX\x1b") == "\x1b[31mX"
    assert log.feed(b"]0;t\x07") == "\\x1b]0;t\\x07"
    assert log.finish() == ""


def test_a_utf8_character_split_across_chunks_is_whole() -> None:
    for char in ("é", "✓", "😀"):
        data = f"a{char}b".encode()
        for cut in range(1, len(data)):
            assert _fed([data[:cut], data[cut:]]) == f"a{char}b"


def test_raw_c1_bytes_are_not_controls_and_bad_utf8_is_replaced() -> None:
    assert _fed([b"x\x9b2Jy\xff"]) == "x\ufffd2Jy\ufffd"


def test_a_log_ending_inside_a_sequence_or_a_character_shows_it_at_finish() -> None:
    log = LogFilter()
    assert log.feed(b"done \x1b[31") == "done "
    assert log.finish() == "\\x1b[31"
    log = LogFilter()
    assert log.feed("end \u00e9".encode()[:-1]) == "end "
    assert log.finish() == "\ufffd"
    assert log.feed(b"next") == "next"  # a finished filter starts again clean


def test_what_is_held_back_stays_small() -> None:
    log = LogFilter()
    long_params = b"\x1b[" + b"1;" * 50_000
    shown = log.feed(long_params)
    assert shown.startswith("\\x1b[1;1;") and len(shown) == len(long_params) + 3
    held = log.feed(b"x" * 100 + b"\x1b[" + b"1" * 30)
    assert held == "x" * 100
    assert log.finish() == "\\x1b[" + "1" * 30
