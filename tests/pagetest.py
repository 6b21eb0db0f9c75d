"""What the page tests read off an AppTest run: the bad-link note, metrics, text, captions, and
a page opened at one step of its lesson."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from conftest import open_page
from streamlit.testing.v1 import AppTest

LINK_NOTE_ICON = ":material/link_off:"


def step_opener(page: str, key: str, steps: Sequence[str]) -> Callable[..., AppTest]:
    """``at_step(number, **params)``: the page opened on step ``number`` (from 1), with more
    link parameters."""

    def at_step(number: int, **params) -> AppTest:
        return open_page(page, {key: steps[number - 1], **params})

    return at_step


def link_notes(at: AppTest) -> str:
    """The text of the page's bad-link note (takeaways are info boxes too, with another icon)."""
    return " ".join(i.value for i in at.info if i.icon == LINK_NOTE_ICON)


def metric(at: AppTest, label: str) -> str:
    """The value of the first metric with this label (fails if there is none)."""
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return values[0]


def markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def assert_step_alone(at: AppTest, number: int, charts: int) -> None:
    """Step ``number`` is shown on its own: no exception, error or link note, its one numbered
    heading, and ``charts`` charts."""
    assert not at.exception
    assert not at.error
    assert not link_notes(at)
    headers = [h.value for h in at.header] + [h.value for h in at.subheader]
    numbered = [h for h in headers if h[0].isdigit()]
    assert len(numbered) == 1 and numbered[0].startswith(f"{number}.")
    assert len(at.get("plotly_chart")) == charts


def guess(at: AppTest, key: str, value: str) -> str:
    """Answer the "predict first" question ``key`` with ``value``; return the verdict shown."""
    at.button_group(key=key).set_value(value).run()
    verdicts = [m.value for m in (*at.success, *at.warning) if m.value.startswith("You predicted")]
    assert len(verdicts) == 1, verdicts
    return verdicts[0]


def chart_specs(at: AppTest) -> list[dict]:
    """Every chart on the page as the plotly spec the browser receives."""
    import json

    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def explorables(at: AppTest) -> list[dict]:
    """The charts on the page that carry frames and their own slider."""
    return [spec for spec in chart_specs(at) if spec.get("frames")]


def shown_note(spec: dict) -> str:
    """The line of numbers an explorable shows at the frame it opened at ("" if none)."""
    notes = [a["text"] for a in spec["layout"].get("annotations", [])
             if a.get("name") == "explorable-note"]
    return notes[0].replace("<br>", " ") if notes else ""


def opened_frame(spec: dict) -> int:
    return spec["layout"]["sliders"][0]["active"]
