"""The explorable builder (ui/explorable.py): frames hold exactly the values they were given,
only for the traces that change; the slider and buttons switch frames in the browser; a spec
opens at any frame; every spec is a figure plotly accepts."""

import math

import plotly.graph_objects as go
import pytest

from ui import explorable


def assert_valid_figure(spec: dict) -> None:
    """plotly's own validation of the whole spec, frames included (the app skips it)."""
    go.Figure(spec)


def _figure():
    return dict(
        data=[dict(type="scatter", x=[0, 1, 2], y=[0, 0, 0], name="moving"),
              dict(type="scatter", x=[0, 2], y=[1, 1], name="static"),
              dict(type="scatter", x=[0], y=[0], mode="markers", name="dot")],
        layout=dict(title="A line that tilts", annotations=[dict(x=0, y=1, text="fixed")]))


GRID = [0.0, 0.5, 1.0, 1.5]
FRAMES = [[dict(y=[0, k, 2 * k]), dict(x=[k], y=[k])] for k in GRID]


def _built(**kwargs):
    return explorable.build(_figure(), GRID, "slope", FRAMES, changing=[0, 2], **kwargs)


def test_frames_carry_only_the_changing_traces_with_their_values():
    spec = _built()
    assert len(spec["frames"]) == len(GRID)
    for k, frame in enumerate(spec["frames"]):
        assert frame["name"] == str(k)
        assert frame["traces"] == [0, 2]
        assert frame["data"] == FRAMES[k]
        assert "layout" not in frame  # nothing per frame but the traces
    assert_valid_figure(spec)


def test_the_slider_animates_to_each_frame_without_a_redraw():
    slider = _built()["layout"]["sliders"][0]
    assert [step["label"] for step in slider["steps"]] == ["0", "0.5", "1", "1.5"]
    for k, step in enumerate(slider["steps"]):
        assert step["method"] == "animate"
        names, options = step["args"]
        assert names == [str(k)]
        assert options["frame"] == {"duration": 0, "redraw": False}
        assert options["transition"]["duration"] == 0
    assert slider["currentvalue"]["prefix"] == "slope = "
    assert slider["active"] == 0


def test_play_adds_play_and_pause_and_nothing_starts_by_itself():
    assert "updatemenus" not in _built()["layout"]
    menu = _built(play=True, frame_ms=90)["layout"]["updatemenus"][0]
    play, pause = menu["buttons"]
    assert (play["label"], pause["label"]) == ("▶", "❚❚")
    assert play["args"][0] is None and play["args"][1]["frame"]["duration"] == 90
    assert play["args"][1]["fromcurrent"] is True
    assert pause["args"][0] == [None]
    assert_valid_figure(_built(play=True))


def test_notes_are_a_line_of_numbers_per_frame_next_to_the_figure_s_own_annotations():
    notes = [f"slope {k:g}: end at {2 * k:g}" for k in GRID]
    spec = _built(notes=notes)
    for k, frame in enumerate(spec["frames"]):
        texts = [a["text"] for a in frame["layout"]["annotations"]]
        assert texts == ["fixed", notes[k]]
    opened = explorable.at(spec, 2)
    assert [a["text"] for a in opened["layout"]["annotations"]] == ["fixed", notes[2]]
    assert_valid_figure(spec)


def test_long_notes_wrap_to_a_phone_s_width():
    spec = _built(notes=["word " * 30] * len(GRID))
    text = spec["frames"][0]["layout"]["annotations"][-1]["text"]
    assert all(len(line) <= explorable.NOTE_WRAP for line in text.split("<br>"))
    assert text.count("<br>") >= 2


def test_per_frame_shapes_and_annotations_add_to_the_static_ones():
    shapes = [[dict(type="line", x0=k, x1=k, y0=0, y1=1)] for k in GRID]
    marks = [[dict(x=k, y=0, text=f"{k:g}")] for k in GRID]
    spec = _built(shapes=shapes, annotations=marks)
    frame = spec["frames"][3]["layout"]
    assert frame["shapes"] == shapes[3]
    assert [a["text"] for a in frame["annotations"]] == ["fixed", "1.5"]
    assert_valid_figure(spec)


def test_at_opens_the_spec_at_a_frame_and_shares_the_frames():
    spec = _built()
    opened = explorable.at(spec, 3)
    assert opened["data"][0]["y"] == [0, 1.5, 3.0] and opened["data"][2]["x"] == [1.5]
    assert opened["data"][0]["name"] == "moving"  # the trace keeps what the frame leaves
    assert opened["data"][1] == spec["data"][1]
    assert opened["layout"]["sliders"][0]["active"] == 3
    assert opened["frames"] is spec["frames"]
    assert spec["layout"]["sliders"][0]["active"] == 0  # the cached spec is not changed
    with pytest.raises(ValueError, match="frame 4 of an explorable with 4 frames"):
        explorable.at(spec, 4)


def test_the_figure_makes_room_for_the_slider():
    spec = _built(notes=["n"] * len(GRID))
    layout = spec["layout"]
    assert layout["margin"]["b"] >= explorable.SLIDER_MARGIN
    assert layout["height"] == explorable.BASE_HEIGHT + explorable.SLIDER_MARGIN + 6 + \
        explorable.NOTE_LINE
    assert layout["title"] == {"text": "A line that tilts"}  # validated once, at build


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(frames=FRAMES[:3]), "4 grid values but 3 frames"),
    (dict(changing=[0, 5]), "outside the figure's 3 traces"),
    (dict(changing=[0]), "frame 0 has 2 traces, 1 change"),
    (dict(notes=["a"]), "4 grid values but 1 notes"),
])
def test_mismatched_input_is_refused(kwargs, message):
    arguments = dict(figure=_figure(), values=GRID, label="slope", frames=FRAMES,
                     changing=[0, 2]) | kwargs
    with pytest.raises(ValueError, match=message):
        explorable.build(**arguments)


def test_compact_rounds_to_significant_digits_and_marks_gaps():
    assert explorable.compact([math.pi, float("inf"), 0.000123456, 0.0, -12345.678]) == \
        [3.1416, None, 0.00012346, 0.0, -12346.0]
    assert explorable.compact([[1.234567, float("nan")]]) == [[1.2346, None]]
    assert explorable.compact(2.0) == [2.0]


def test_nearest_finds_the_frame_a_link_opens_at():
    assert explorable.nearest([0.0, 0.5, 1.0], 0.6) == 1
    assert explorable.nearest([0.0, 0.5, 1.0], 9) == 2
    assert explorable.nearest(["a", "b"], "b") == 1
    assert explorable.nearest(["a", "b"], "zz") == 0
    with pytest.raises(ValueError, match="empty"):
        explorable.nearest([], 1)
