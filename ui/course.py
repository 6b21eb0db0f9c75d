"""The course manifest: every lesson declared once.

The navigation (app.py), the home page's map and the progress table all read this list, so a new
lesson is one entry here plus one script in app_pages/. Only lessons whose page exists are listed.
"""

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLAYLIST_URL = "https://www.youtube.com/playlist?list=PLs8w1Cdi-zvYviYYw_V3qe6SINReGF5M-"
SERIES_TITLE = "Reinforcement learning methods used for training LLMs"
SERIES_AUTHOR = "Luis Serrano (Serrano.Academy)"

# The videos the course accompanies, in the series' order, and the KL video that goes with it.
VIDEOS = {
    "kl": "KL divergence: how to tell how different two distributions are",
    "rl": "Video 0: a friendly introduction to deep reinforcement learning",
    "ppo": "Video 1: Proximal Policy Optimization (PPO)",
    "rlhf": "Video 2: Reinforcement Learning with Human Feedback (RLHF)",
    "dpo": "Video 3: Direct Preference Optimization (DPO)",
}

PARTS = ("Foundations", "Reinforcement learning", "Preference training", "Questions")


@dataclass(frozen=True)
class Lesson:
    """One stop of the course."""

    slug: str  # the URL path of the page, and the key of its self-check progress
    title: str
    page: str  # the script, relative to the app's root
    part: str  # one of PARTS
    videos: tuple[str, ...]  # keys of VIDEOS this lesson accompanies
    summary: str  # one line, shown on the map and the home page
    icon: str  # a Material icon, ":material/name:"


HOME = Lesson(
    slug="home",
    title="Start here",
    page="app_pages/home.py",
    part="",
    videos=(),
    summary="What the course is, the map, and your progress.",
    icon=":material/home:",
)

# In course order. The map draws them left to right.
CURRICULUM: tuple[Lesson, ...] = (
    Lesson(
        slug="kl-divergence",
        title="The dice game: KL divergence",
        page="app_pages/kl_divergence.py",
        part="Foundations",
        videos=("kl", "dpo"),
        summary="Which die rolled this sequence? From likelihoods to entropy, cross-entropy "
        "and KL divergence, and when two distributions are significantly different.",
        icon=":material/casino:",
    ),
    Lesson(
        slug="bradley-terry",
        title="Bradley–Terry: from scores to preferences",
        page="app_pages/bradley_terry.py",
        part="Foundations",
        videos=("dpo", "rlhf"),
        summary="Turn scores into win probabilities, fit scores from who-beat-whom data, and "
        "train a tiny reward model on your own judgements.",
        icon=":material/balance:",
    ),
    Lesson(
        slug="rl-basics",
        title="Reinforcement learning in a grid world",
        page="app_pages/rl_basics.py",
        part="Reinforcement learning",
        videos=("rl", "ppo"),
        summary="States, actions and rewards in a grid world: values and the Bellman equation, "
        "Q-learning, and policy gradients, up to the step that PPO makes safe.",
        icon=":material/grid_on:",
    ),
    Lesson(
        slug="ppo",
        title="PPO: ratio, advantage, clipping",
        page="app_pages/ppo.py",
        part="Reinforcement learning",
        videos=("ppo", "rlhf"),
        summary="The surrogate objective, why PPO clips the probability ratio, the min/max "
        "question, and advantages with GAE.",
        icon=":material/content_cut:",
    ),
    Lesson(
        slug="toy-llm",
        title="An LLM is a policy",
        page="app_pages/toy_llm.py",
        part="Preference training",
        videos=("rlhf",),
        summary="A tiny language model you can read in full: next-token probabilities, the "
        "log-probability of a reply, sampling with a temperature, and a hidden human taste.",
        icon=":material/forum:",
    ),
    Lesson(
        slug="rlhf",
        title="RLHF: reward model, KL penalty, PPO",
        page="app_pages/rlhf.py",
        part="Preference training",
        videos=("rlhf", "dpo"),
        summary="Train a reward model on preference pairs, see the best policy a KL penalty "
        "allows, fine-tune the tiny LM with PPO, and watch a weak reward model get gamed.",
        icon=":material/model_training:",
    ),
    Lesson(
        slug="dpo",
        title="DPO: the loss, the derivation, the training",
        page="app_pages/dpo.py",
        part="Preference training",
        videos=("dpo",),
        summary="The DPO loss with sliders, where the reward goes in the derivation, what the "
        "gradient does, and DPO training of the tiny LM from a good and a poor start.",
        icon=":material/target:",
    ),
    Lesson(
        slug="dpo-vs-rlhf",
        title="Lab: DPO or RLHF?",
        page="app_pages/dpo_vs_rlhf.py",
        part="Preference training",
        videos=("dpo", "rlhf"),
        summary="Run both on the same data and compare them on the reward–KL frontier: "
        "how close each gets to the best possible trade-off, and at what cost.",
        icon=":material/science:",
    ),
    Lesson(
        slug="questions",
        title="Questions from learners",
        page="app_pages/questions.py",
        part="Questions",
        videos=("kl", "rl", "ppo", "rlhf", "dpo"),
        summary="The questions viewers asked under the videos, answered briefly, each with a "
        "link that opens the lesson in the state that shows the answer.",
        icon=":material/quiz:",
    ),
)

# Pages that are not stops of the route: the teacher's tools, in their own navigation section.
TOOLS_PART = "In class"
CLASS_MODE = Lesson(
    slug="class",
    title="Class mode: your class trains the model",
    page="app_pages/class_mode.py",
    part=TOOLS_PART,
    videos=("rlhf", "dpo"),
    summary="A room where the class's own judgements are the preference data: students judge "
    "pairs on their phones, and the projected screen shows what the model learns from them.",
    icon=":material/groups:",
)
TOOLS: tuple[Lesson, ...] = (CLASS_MODE,)

# The lessons that are published: those whose page exists.
LESSONS: tuple[Lesson, ...] = tuple(
    lesson for lesson in CURRICULUM if (ROOT / lesson.page).is_file())


# Every page of the course, in the navigation's order.
PAGES: tuple[Lesson, ...] = (HOME, *LESSONS, *TOOLS)


# Where ui.shell notes, for every run, the slug of the page it shows (ui.steps reads it).
CURRENT_PAGE = "_course_current_page"


def neighbours(slug: str) -> tuple[Lesson | None, Lesson | None]:
    """The lessons before and after this one on the route (None at either end)."""
    slugs = [lesson.slug for lesson in LESSONS]
    if slug not in slugs:
        return None, None
    i = slugs.index(slug)
    return (LESSONS[i - 1] if i > 0 else None,
            LESSONS[i + 1] if i + 1 < len(LESSONS) else None)


def lessons_in(part: str) -> list[Lesson]:
    """The lessons of one part, in course order."""
    return [lesson for lesson in LESSONS if lesson.part == part]


def lesson(slug: str) -> Lesson:
    """The lesson with this slug (the home page and the tools included)."""
    for item in PAGES:
        if item.slug == slug:
            return item
    raise KeyError(f"no lesson called {slug!r}")
