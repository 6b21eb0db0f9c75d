"""The shared UI kit's pure parts: URL parameter checks, quiz grading, the manifest, the theme."""

import inspect
import subprocess
import sys
from pathlib import Path

import plotly.io as pio
import pytest

from ui import course, quiz, shared, theme
from ui.state import Param, parse_numbers

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("param", "raw", "fits"),
    [
        (Param("n", 10, lo=1, hi=500), "20", True),
        (Param("n", 10, lo=1, hi=500), "0", False),
        (Param("n", 10, lo=1, hi=500), "501", False),
        (Param("n", 10, lo=1, hi=500), "2.5", False),
        (Param("n", 10, lo=1, hi=500), "abc", False),
        (Param("n", 10, lo=1, hi=500), "nan", False),
        (Param("beta", 0.1, lo=0.01, hi=5.0), "0.5", True),
        (Param("beta", 0.1, lo=0.01, hi=5.0), "inf", False),
        (Param("beta", 0.1, lo=0.01, hi=5.0), "-1", False),
        (Param("unit", "bits", options=("bits", "nats")), "nats", True),
        (Param("unit", "bits", options=("bits", "nats")), "furlongs", False),
        (Param("on", False), "true", True),
        (Param("on", False), "yes please", False),
        (Param("counts", "4,2,1,1,2", max_chars=50), "1,2", True),
        (Param("counts", "4,2,1,1,2", max_chars=50), "9" * 51, False),
    ],
)
def test_param_problem(param, raw, fits):
    assert (param.problem(raw) is None) == fits


def test_param_problem_says_what_is_used_instead():
    assert "so 2 is used" in Param("n", 10, lo=1, hi=500).problem("2.5")
    assert "default (10)" in Param("n", 10, lo=1, hi=500).problem("0.5")
    assert "(500), so the default (10) is used" in Param("n", 10, lo=1, hi=500).problem("9000")
    assert "default (10)" in Param("n", 10, lo=1, hi=500).problem("ten")


@pytest.mark.parametrize("param, raw, kept", [
    (Param("n", 10, lo=1, hi=500), "2.5", "2"),  # a fraction is cut to the whole number
    (Param("n", 10, lo=1, hi=500), "0.5", None),  # cut to 0, below the range: default
    (Param("n", 10, lo=1, hi=500), "9" * 5000, None),  # too large even for a float
    (Param("n", 10, lo=1, hi=500), "ten", None),
    (Param("x", 0.5, lo=0.0, hi=1.0), "2", None),
    (Param("c", "a", options=("a", "b")), "z", None),
    (Param("t", "", max_chars=5), "abcdefgh", "abcde"),  # text is kept, cut short
])
def test_param_repaired_keeps_what_the_note_promises(param, raw, kept):
    assert param.problem(raw) is not None
    assert param.repaired(raw) == kept


@pytest.mark.parametrize(
    ("response", "right"),
    [(None, None), (-3.0, True), (-3.0000001, True), (-2.9, False), (float("nan"), False)],
)
def test_numeric_grading(response, right):
    question = quiz.Numeric("q", "log2(1/8)?", answer=-3.0, tolerance=1e-6, explanation="")
    assert quiz.is_right(question, response) is right


def test_choice_grading():
    question = quiz.Choice("q", "?", options=["a", "b"], answer="b", explanation="")
    assert quiz.is_right(question, "b") is True
    assert quiz.is_right(question, "a") is False


def test_manifest_is_consistent():
    stops = course.PAGES
    assert len({s.slug for s in stops}) == len(stops)
    for stop in stops:
        assert (ROOT / stop.page).exists(), f"{stop.page} is registered but missing"
        assert stop.icon.startswith(":material/")
        assert set(stop.videos) <= set(course.VIDEOS)
    for lesson in course.LESSONS:
        assert lesson.part in course.PARTS
        assert lesson.videos, f"{lesson.slug} names no video"


def test_every_page_script_is_registered():
    registered = {s.page for s in course.PAGES}
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "app_pages").glob("*.py")}
    assert on_disk == registered


def test_templates_registered_with_readable_fonts():
    assert pio.templates.default == theme.TEMPLATE
    normal = pio.templates[theme.TEMPLATE].layout.font.size
    projected = pio.templates[theme.PRESENTER_TEMPLATE].layout.font.size
    assert normal >= 14 and projected >= normal + 4


def test_colour_meanings_are_distinct():
    roles = ["P", "Q", "policy", "reference", "chosen", "rejected", "exact", "estimate"]
    assert len({theme.COLORS[r] for r in roles}) == len(roles)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.5, 0.3, 0.2", [0.5, 0.3, 0.2]), ("1;2", [1.0, 2.0]), (" 3 ,0 ", [3.0, 0.0])],
)
def test_parse_numbers(text, expected):
    assert parse_numbers(text, "P", min_count=2) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "^P: nothing is typed yet"), ("0.5, abc", "'abc' is not a number"),
     ("1, inf", "not a finite"), ("1", r"^P: 1 number is given; give between 2 and 10\.$"),
     (",".join(["1"] * 11), r"^P: 11 numbers are given; give between 2 and 10\.$"),
     ("1,,2", "'' is not a number")],
)
def test_parse_numbers_explains_bad_input(text, message):
    with pytest.raises(ValueError, match=message):
        parse_numbers(text, "P", min_count=2)


def _number_page():
    import streamlit as st

    from ui import state

    seed = state.number(state.Param("t_seed", 7, lo=0, hi=100, step=1), "Random seed")
    st.write(f"seed {seed}")


@pytest.mark.parametrize(("typed", "kept", "note"), [
    (500, 100, "Random seed**: 500 is above the largest allowed value, so 100 is used "
               "(allowed: 0 to 100)."),
    (-3, 0, "Random seed**: -3 is below the smallest allowed value, so 0 is used"),
    (42, 42, None),
])
def test_a_number_outside_its_range_is_brought_back_with_a_note(typed, kept, note):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_number_page)
    at.run()
    at.number_input(key="t_seed").set_value(typed).run()
    assert not at.exception
    assert at.number_input(key="t_seed").value == kept
    assert at.markdown[-1].value == f"seed {kept}"
    warnings = [w.value for w in at.warning]
    assert (warnings == []) if note is None else (note in warnings[0])
    at.number_input(key="t_seed").set_value(50).run()  # a good value clears the note
    assert not at.warning and at.markdown[-1].value == "seed 50"


def _number_form_page():
    import streamlit as st

    from ui import state

    with st.form("run"):
        seed = state.number(state.Param("t_seed", 7, lo=0, hi=100, step=1), "Random seed")
        st.form_submit_button("Run")
    st.write(f"seed {seed}")


def test_a_number_in_a_form_is_brought_back_into_its_range_when_sent():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_number_form_page)
    at.run()
    at.number_input(key="t_seed").set_value(500)
    at.button[0].click().run()
    assert not at.exception
    assert at.markdown[-1].value == "seed 100"
    assert "500 is above the largest allowed value, so 100 is used" in at.warning[0].value


def _code_page():
    import streamlit as st

    from lessons import information
    from ui import code

    st.title("Code")
    code.show_code(information.entropy, information.kl_divergence)


def test_code_is_rendered_only_while_its_expander_is_open():
    from streamlit.testing.v1 import AppTest

    from lessons import information
    from ui import code

    at = AppTest.from_function(_code_page).run()
    assert not at.exception
    assert len(at.expander) == 1 and not at.code  # closed: nothing highlighted on the page
    at.session_state[code.code_key((information.entropy, information.kl_divergence))] = True
    at.run()
    sources = [c.value for c in at.code]
    assert sources == [inspect.getsource(information.entropy).rstrip(),
                       inspect.getsource(information.kl_divergence).rstrip()]


def _faded(color: str, background: str, alpha: float) -> str:
    """``color`` drawn at opacity ``alpha`` over ``background`` (how Streamlit fades captions)."""
    mixed = [round(alpha * int(color[i:i + 2], 16) + (1 - alpha) * int(background[i:i + 2], 16))
             for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02X}" for c in mixed)


def test_the_theme_s_text_colours_meet_wcag_aa():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert config["textColor"] == theme.TEXT  # the charts' text is the page's
    assert config["codeTextColor"] == theme.TEXT
    for background in (config["backgroundColor"], config["secondaryBackgroundColor"]):
        assert theme.contrast(theme.TEXT, background) >= 15
        # captions and the sidebar's part names are the text colour at 60 % opacity
        assert theme.contrast(_faded(theme.TEXT, background, 0.6), background) >= 4.5
        assert theme.contrast(config["primaryColor"], background) >= 4.5  # links
        # the picked step of a step picker: the primary colour on its own 20 % tint
        tint = _faded(config["primaryColor"], background, 0.2)
        assert theme.contrast(config["primaryColor"], tint) >= 4.5
    assert theme.contrast(theme.text_on(config["primaryColor"]), config["primaryColor"]) >= 4.5


def _page_function(path: Path, source: str, calls: list) -> object:
    """Run ``source`` as a page script does (a fresh module each run); its ``area``."""
    path.write_text(source, encoding="utf-8")
    module = {"calls": calls, "__name__": "__main__"}
    exec(compile(source, str(path), "exec"), module)  # noqa: S102
    return module["area"]


def test_a_page_s_cached_function_is_made_once_and_shared_by_later_runs(tmp_path):
    page, calls = tmp_path / "page.py", []
    source = "def area(r):\n    calls.append(r)\n    return 3 * r * r\n"
    made = [shared.cache_data(max_entries=4)(_page_function(page, source, calls))
            for _ in range(2)]  # the page script run twice
    assert made[0] is made[1]
    assert made[1](2.0) == 12.0 and made[0](2.0) == 12.0
    assert calls == [2.0]
    edited = shared.cache_data(max_entries=4)(
        _page_function(page, source.replace("3 * r", "4 * r"), calls))
    assert edited is not made[0]
    assert edited(2.0) == 16.0
    assert calls == [2.0, 2.0]


def test_the_server_process_collector_is_tuned_once():
    # In a process of its own: the freeze and the thresholds are process-wide.
    script = ("import gc\n"
              "from ui import process\n"
              "before = gc.get_freeze_count()\n"
              "process.tune()\n"
              "frozen, tuned = gc.get_freeze_count(), gc.get_threshold()\n"
              "gc.set_threshold(700, 10, 10)\n"
              "process.tune()  # a second call changes nothing\n"
              "print(before, frozen, *tuned, *gc.get_threshold())\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    before, frozen, *thresholds = map(int, done.stdout.split())
    assert before == 0 and frozen > 10_000  # the loaded modules' objects
    assert thresholds == [50_000, 20, 10, 700, 10, 10]
