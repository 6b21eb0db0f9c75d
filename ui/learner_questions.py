"""The questions learners asked under the videos, in our own words, each with a short answer and
a link that opens the lesson in the state that shows the answer.

The questions page lists them; its test opens every link and checks that the lesson renders and
that its widgets hold the linked values. A link is the lesson's slug plus its query parameters,
the same parameters a teacher's shared link carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ui.theme import METHOD_COLORS


def badge(method: str) -> str:
    """A method's badge in markdown, as the lessons' equation cards draw it (``st.badge``)."""
    return f":{METHOD_COLORS[method]}-badge[{method}]"


@dataclass(frozen=True)
class LearnerQuestion:
    """One learner question and where the course answers it."""

    topic: str  # a few words, the question's heading
    question: str  # the learner's question, paraphrased
    answer: str  # two to five sentences, markdown
    slug: str  # the lesson that demonstrates the answer
    methods: tuple[str, ...]  # the methods it is about: badges of ui.theme.METHOD_COLORS
    params: dict[str, str] = field(default_factory=dict)  # its query parameters
    demo: str = ""  # what the link shows, completing "The demo: ..."

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in METHOD_COLORS]
        if not self.methods or unknown:
            raise ValueError(f"{self.topic!r}: methods must be some of {list(METHOD_COLORS)}, "
                             f"got {list(self.methods)}")


LEARNER_QUESTIONS: tuple[LearnerQuestion, ...] = (
    LearnerQuestion(
        topic="A correction to the dice probabilities",
        question="The probabilities of the sequence written on screen for the three dice "
        "do not match the dice. What are the right products?",
        answer="With the counts (4, 2, 1, 1, 2) of faces 1 to 5, Die 1 gives "
        "0.4⁴·0.2²·0.1·0.1·0.2², Die 2 gives 0.4⁴·0.1²·0.2·0.2·0.1² and Die 3 gives "
        "0.1⁴·0.2²·0.4·0.2·0.1². The lesson writes each product out from the dice's face "
        "probabilities, so you can check every factor, and Die 1 is the most likely to have "
        "rolled the sequence.",
        slug="kl-divergence",
        methods=("KL",),
        params={"kl_step": "1. Which die rolled it?", "kl_source": "The video's sequence"},
        demo="the video's sequence with the products written out",
    ),
    LearnerQuestion(
        topic="Why divide by n?",
        question="In the dice game, why take the log of the probability and then divide it by "
        "the number of rolls?",
        answer="The probability of a long sequence is a product of many numbers below 1, so it "
        "shrinks towards 0 for every die and soon underflows; comparing such numbers says "
        "little. Its log is a sum, and dividing by n turns that sum into an average log-"
        "likelihood per roll, which settles to a fixed value as n grows. Those per-roll "
        "averages are what the KL divergence compares.",
        slug="kl-divergence",
        methods=("KL",),
        params={"kl_step": "2. Why divide by n?", "kl_why_n": "5000"},
        demo="the product vanishing while the per-roll average settles, over 5000 rolls",
    ),
    LearnerQuestion(
        topic="KL divergence or cross-entropy?",
        question="Cross-entropy and KL divergence look almost the same. Why does the course "
        "(and DPO) use KL?",
        answer="Cross-entropy is entropy plus KL: CE(P, Q) = H(P) + KL(P‖Q). The entropy part "
        "depends on P alone, so it is a floor that no model Q can go below. KL is the part a "
        "better Q can remove: KL(P‖P) = 0, while CE(P, P) = H(P) is not 0. When P is the "
        "data, minimising either in Q gives the same answer; KL is the one that reads as a "
        "distance from a perfect match.",
        slug="kl-divergence",
        methods=("KL",),
        params={"kl_step": "4. Entropy, cross-entropy, KL", "kl_ce_p": "Die 1",
                "kl_ce_q": "Die 1"},
        demo="P and Q both Die 1: KL is 0, the cross-entropy is the entropy",
    ),
    LearnerQuestion(
        topic="Bits or nats?",
        question="Entropy is described as the number of bits needed. What are nats, and does "
        "the unit change anything?",
        answer="The unit is the base of the logarithm: log base 2 gives bits, the natural log "
        "gives nats, and 1 nat = 1/ln 2 ≈ 1.443 bits. Every entropy, cross-entropy and KL "
        "scales by the same factor, so no comparison changes. In bits, the entropy is the "
        "smallest average number of yes/no questions per roll that any code can reach over "
        "long sequences; machine learning code uses nats because it uses the natural log.",
        slug="kl-divergence",
        methods=("KL",),
        params={"kl_step": "4. Entropy, cross-entropy, KL", "kl_unit": "nats"},
        demo="the same entropies and divergences in nats",
    ),
    LearnerQuestion(
        topic="When is a KL significant?",
        question="Is there a KL value above which two distributions count as significantly "
        "different?",
        answer="Not a fixed one: it depends on how much data you have. With n observations, "
        "G = 2·n·KL(empirical‖model) (in nats) is approximately chi-square distributed with "
        "k − 1 degrees of freedom when the model is true, which turns a KL into a p-value. The "
        "same KL is noise at n = 10 and overwhelming evidence at n = 10 000, as the p-value "
        "curve of the linked view shows. When some outcome is expected fewer than about five "
        "times the approximation is poor, and the lesson then adds the exact p-value (try 20 "
        "rolls).",
        slug="kl-divergence",
        methods=("KL",),
        params={"kl_step": "6. When is a KL significant?", "kl_g_source": "Roll new ones",
                "kl_g_true": "Die 1", "kl_g_model": "Die 2", "kl_g_n": "200"},
        demo="200 rolls of Die 1 tested against Die 2",
    ),
    LearnerQuestion(
        topic="What about the Wasserstein distance?",
        question="Could the course cover the Wasserstein (earth mover's) distance and compare "
        "it with KL?",
        answer="KL only compares probabilities outcome by outcome, so it cannot tell a small "
        "shift from a large one: it becomes infinite as soon as Q gives zero probability to "
        "an outcome P can produce, which for hard-edged distributions happens at the first "
        "step of a shift. Wasserstein measures how far probability mass has to move, so it "
        "grows steadily with the shift. Slide one distribution away from the other and watch "
        "KL jump to ∞ while Wasserstein climbs in a straight line.",
        slug="kl-divergence",
        methods=("KL",),
        params={"kl_step": "7. Beyond KL", "kl_shape": "Hard edges", "kl_shift": "6.0"},
        demo="two hard-edged bumps six positions apart",
    ),
    LearnerQuestion(
        topic="Bradley–Terry is a softmax",
        question="The Bradley–Terry probability turned out to be a softmax. Why?",
        answer="σ(a − b) = 1 / (1 + e^(b − a)) = e^a / (e^a + e^b), which is the softmax of "
        "the two scores a and b. Like every softmax it only sees differences: adding the same "
        "c to both scores changes nothing. Elo ratings are the same model with scores measured "
        "in units of 400/ln 10 points.",
        slug="bradley-terry",
        methods=("Bradley–Terry",),
        params={"bt_step": "2. It is a softmax", "bt_shift_guess": "Stays the same",
                "bt_sa": "2.0", "bt_sb": "0.5", "bt_shift": "3.0"},
        demo="scores 2 and 0.5 with 3 added to both: the same probabilities",
    ),
    LearnerQuestion(
        topic="PPO clipping: min or max?",
        question="With a ratio of 0.4 and ε = 0.3, clipping should give 0.7, yet PPO's formula "
        "returns 0.4. Should it not read max(1 − ε, min(r, 1 + ε))?",
        answer="That expression is exactly clip(r, 1 − ε, 1 + ε), and it does give 0.7. PPO "
        "then takes the minimum of the unclipped term r·A and the clipped term clip(r)·A. "
        "With A > 0 and r = 0.4 the unclipped 0.4·A is the smaller, so the objective is 0.4·A "
        "on purpose: a pessimistic bound that keeps the slope, so the gradient still pushes r "
        "back up. The lesson puts both formulas side by side at these numbers; its Clipping step "
        "lists all six sign and region cases.",
        slug="ppo",
        methods=("PPO",),
        params={"ppo_step": "3. The min/max question", "ppo_qr": "0.4", "ppo_qeps": "0.3",
                "ppo_qa": "1.0"},
        demo="r = 0.4, ε = 0.3, A = 1 with both formulas compared",
    ),
    LearnerQuestion(
        topic="DPO or RLHF: which works better?",
        question="In practice, which gives the better model: DPO, or RLHF with a reward model "
        "and PPO?",
        answer="It depends on the data, the reward model and how far from the reference the "
        "model may move, and published studies disagree: the DPO paper found DPO ahead, while "
        "later comparisons found carefully tuned PPO ahead. The lab runs both on the same "
        "preference data of the tiny language model and places every run on the reward–KL "
        "plane, under the exact frontier that no run can cross, so you can see which one "
        "comes closer to it at which KL. Its verdict is written from your run, not in "
        "advance.",
        slug="dpo-vs-rlhf",
        methods=("DPO", "RLHF"),
        params={"lab_step": "3. Run the sweep", "lab_pairs": "3000", "lab_noise": "0"},
        demo="the sweep of both methods on 3,000 clean preference pairs",
    ),
    LearnerQuestion(
        topic="Where do the preferences go?",
        question="DPO has no reward model. How do human preferences end up stored in the "
        "network's own probabilities?",
        answer="The best policy under a KL penalty is π* = π_ref·exp(r/β)/Z, so the reward can "
        "be read back from it: r = β·log(π*/π_ref) + β·log Z. Put that into the Bradley–Terry "
        "probability of a preference and Z cancels, because both replies answer the same "
        "prompt. What is left depends only on the policy and the reference, so raising "
        "β·log(π/π_ref) for chosen replies over rejected ones is learning the reward.",
        slug="dpo",
        methods=("DPO",),
        params={"dpo_step": "3. Where does the reward go?", "dpo_deriv": "d. Into Bradley–Terry"},
        demo="the derivation at the step where Z cancels, checked on numbers",
    ),
    LearnerQuestion(
        topic="Does the starting model matter?",
        question="How much does the reference model that DPO starts from matter?",
        answer="A lot: the KL term ties what DPO can reach to π_ref·e^(r/β), so the "
        "reference decides where training can go. In the lesson, the same pairs and the same "
        "β take the usual start to a true reward E[r] of 1.53, but a poor start, which gives "
        "the best replies almost no probability, only to −2.92. The poor run moves nearly as "
        "far (KL 2.212 nats from its own reference, against 2.525), yet it can only reweight "
        "the replies its reference already writes: a reply the reference almost never writes "
        "stays rare after being multiplied by e^(r/β).",
        slug="dpo",
        methods=("DPO",),
        params={"dpo_step": "6. Does the starting model matter?", "dpo_s_beta": "1",
                "dpo_s_tau": "0.5"},
        demo="DPO from a good and from a very poor reference",
    ),
    LearnerQuestion(
        topic="Which method does an equation belong to?",
        question="An equation shown as DPO's main equation was really PPO's. How can I tell "
        "which method an equation comes from?",
        answer="Every equation card in the course carries a badge that names its method: "
        + " ".join(badge(method) for method in METHOD_COLORS) + " (LM marks a language "
        "model's own equations, such as the probability of a reply word by word). PPO's "
        "clipped objective is a reinforcement-learning loss with ratios and advantages; DPO's "
        "loss has no advantage and no sampling, only log-ratios of the policy to the "
        "reference on a chosen and a rejected reply. The DPO lesson sets the two pipelines "
        "side by side.",
        slug="dpo",
        methods=("PPO", "DPO"),
        params={"dpo_step": "1. RLHF vs DPO"},
        demo="RLHF and DPO side by side, each equation labelled",
    ),
)


def lesson_slugs() -> tuple[str, ...]:
    """The lessons the questions link to, in the order they first appear."""
    return tuple(dict.fromkeys(q.slug for q in LEARNER_QUESTIONS))
