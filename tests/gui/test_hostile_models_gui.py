"""What the window shows about a model comes from the same cleaned metadata as the command line
(issue 12, finding 14): escape codes in a description, name, metrics or card never reach a label,
tooltip or the details pane."""

from __future__ import annotations

from gui_helpers import write_model

CONTROL = ("\x1b", "\x07", "\x9b", "\u202e")


def test_model_selector_texts_carry_no_control_characters() -> None:
    from desktop_app.colorize.jobs import scan_models

    path = write_model("fancy", seed=0, description="\x1b[31mRed\x1b[0m model\u202e\x07 with a card")
    path.with_suffix(".md").write_text("# fancy\n\x1b]0;pwned\x07card \x1b[5mtext\n", encoding="utf-8")
    (choice,) = scan_models(None, None)
    shown = [choice.name, choice.description, choice.summary(), choice.tooltip_html(), choice.details_markdown(),
             choice.card]
    assert not any(c in text for text in shown for c in CONTROL)
    assert choice.summary() == "Fastest: instant previews"  # the plain line, from its metadata
    assert "Red model with a card" in choice.tooltip_html() and "Red model with a card" in choice.details_markdown()
    assert "card text" in choice.details_markdown()
