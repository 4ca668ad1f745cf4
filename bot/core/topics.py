"""The topic outline every question belongs to (from the seed notes' outline).

Areas are the four chapters of the outline (plus attention and Transformers, issue 14); topics
are its bullets. Ids are stable: they are
stored in the database and written in the question bank.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import UnknownTopic
from bot.core.models import Localized


@dataclass(frozen=True, slots=True)
class Area:
    id: str
    name: Localized


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    area: str
    name: Localized


AREAS: tuple[Area, ...] = (
    Area("basics", Localized(en="Neural-network basics", zh="神经网络基础")),
    Area("cnn", Localized(en="CNNs", zh="卷积神经网络")),
    Area("rnn", Localized(en="RNNs and word2vec", zh="循环神经网络与 word2vec")),
    Area("gan", Localized(en="GANs and WGAN", zh="生成对抗网络与 WGAN")),
    # Not "attention": an area id must differ from every topic id (topics_in reads an area first).
    Area("attn", Localized(en="Attention and Transformers", zh="注意力机制与 Transformer")),
)

TOPICS: tuple[Topic, ...] = (
    Topic("backprop", "basics", Localized(en="Backpropagation", zh="反向传播")),
    Topic("initialization", "basics", Localized(en="Weight initialisation", zh="权重初始化")),
    Topic(
        "vanishing_gradients",
        "basics",
        Localized(en="Vanishing and exploding gradients", zh="梯度消失与梯度爆炸"),
    ),
    Topic("activations", "basics", Localized(en="Activation functions", zh="激活函数")),
    Topic("optimizers", "basics", Localized(en="Optimizers", zh="参数更新方法（优化器）")),
    Topic("overfitting", "basics", Localized(en="Fighting overfitting", zh="防止过拟合")),
    Topic("normalization", "basics", Localized(en="Normalisation layers", zh="归一化层")),
    Topic(
        "training_practice",
        "basics",
        Localized(
            en="Training in practice: schedules, batch size, regularisers",
            zh="训练实践：学习率调度、批大小与正则技巧",
        ),
    ),
    Topic(
        "cnn_basics",
        "cnn",
        Localized(en="Local connectivity and weight sharing", zh="局部连接与权值共享"),
    ),
    Topic("filter_size", "cnn", Localized(en="Filter sizes", zh="卷积核尺寸")),
    Topic("conv_output", "cnn", Localized(en="Output sizes", zh="输出尺寸计算")),
    Topic("pooling", "cnn", Localized(en="Pooling", zh="池化")),
    Topic("cnn_models", "cnn", Localized(en="Classic CNN models", zh="经典 CNN 模型")),
    Topic(
        "efficient_cnns",
        "cnn",
        Localized(en="Efficient CNNs and transfer learning", zh="高效 CNN 与迁移学习"),
    ),
    Topic("rnn_basics", "rnn", Localized(en="Recurrence", zh="循环结构")),
    Topic("lstm_gru", "rnn", Localized(en="RNN vs LSTM vs GRU", zh="RNN、LSTM 与 GRU")),
    Topic("gradient_clipping", "rnn", Localized(en="Gradient clipping", zh="梯度裁剪")),
    Topic("word2vec", "rnn", Localized(en="word2vec", zh="word2vec 词向量")),
    Topic("rnn_pytorch", "rnn", Localized(en="RNNs in PyTorch", zh="PyTorch 中的循环网络")),
    Topic("gan_basics", "gan", Localized(en="Generator and discriminator", zh="生成器与判别器")),
    Topic(
        "optimal_discriminator",
        "gan",
        Localized(en="Optimal discriminator and JS divergence", zh="最优判别器与 JS 散度"),
    ),
    Topic("gan_training", "gan", Localized(en="The GAN training loop", zh="GAN 的训练过程")),
    Topic(
        "gan_loss",
        "gan",
        Localized(en="Saturating vs non-saturating loss", zh="饱和与非饱和生成器损失"),
    ),
    Topic(
        "gan_failures",
        "gan",
        Localized(en="Disjoint supports and mode collapse", zh="支撑集不重叠与模式坍塌"),
    ),
    Topic("wgan", "gan", Localized(en="f-divergences and WGAN", zh="f 散度与 WGAN")),
    Topic("modern_gans", "gan", Localized(en="GANs since WGAN", zh="WGAN 之后的 GAN")),
    Topic("attention", "attn", Localized(en="Scaled dot-product attention", zh="缩放点积注意力")),
    Topic(
        "transformers",
        "attn",
        Localized(en="The Transformer architecture", zh="Transformer 架构"),
    ),
)

AREA_IDS: frozenset[str] = frozenset(a.id for a in AREAS)
TOPIC_IDS: frozenset[str] = frozenset(t.id for t in TOPICS)
_BY_ID: dict[str, Topic] = {t.id: t for t in TOPICS}


def topic(topic_id: str) -> Topic:
    """The topic with that id (KeyError if there is none)."""
    return _BY_ID[topic_id]


def topic_id(text: str) -> str:
    """The area or topic id a user most likely meant: `CNN` is `cnn`, `Vanishing Gradients`
    and `vanishing-gradients` are `vanishing_gradients`; other text as it is (for the
    caller's "unknown topic", quoting it)."""
    wanted = "_".join(text.strip().casefold().replace("-", " ").split())
    return wanted if wanted in AREA_IDS or wanted in TOPIC_IDS else text


def known_topic(text: str | None) -> str | None:
    """`topic_id` of a topic asked for (None: every topic); UnknownTopic if it names none."""
    if text is None:
        return None
    found = topic_id(text)
    if not topics_in(found):
        raise UnknownTopic(found)
    return found


def topics_in(area_or_topic: str) -> tuple[str, ...]:
    """Topic ids selected by an area id or a topic id; empty if it names neither."""
    if area_or_topic in AREA_IDS:
        return tuple(t.id for t in TOPICS if t.area == area_or_topic)
    if area_or_topic in TOPIC_IDS:
        return (area_or_topic,)
    return ()
