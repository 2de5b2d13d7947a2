"""Chinese personal names: a single-character family name first, then a 1-2 character given name."""

from __future__ import annotations

import random

# The common family names, roughly in order of frequency, with rough weights.
FAMILY_NAMES = (
    ("王", 72), ("李", 70), ("张", 66), ("刘", 53), ("陈", 45), ("杨", 31), ("黄", 24), ("赵", 20),
    ("吴", 20), ("周", 19), ("徐", 15), ("孙", 14), ("马", 12), ("朱", 12), ("胡", 11), ("郭", 11),
    ("何", 10), ("高", 10), ("林", 10), ("罗", 9), ("郑", 9), ("梁", 8), ("谢", 7), ("宋", 6),
    ("唐", 6), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6), ("曹", 5), ("彭", 5), ("曾", 5),
    ("肖", 5), ("田", 5), ("董", 5), ("袁", 4), ("潘", 4), ("于", 4), ("蒋", 4), ("蔡", 4),
    ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3),
    ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3), ("钟", 3), ("谭", 3),
    ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3), ("廖", 2), ("贾", 2), ("夏", 2),
    ("韦", 2), ("方", 2), ("邱", 2), ("俞", 2), ("钱", 2), ("严", 2), ("章", 2), ("楼", 1),
)
_FAMILY = [name for name, _ in FAMILY_NAMES]
_FAMILY_WEIGHTS = [weight for _, weight in FAMILY_NAMES]

MALE_CHARS = (
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞斌波宇浩凯健俊帆帅旭宁龙林东建国志峰成文"
    "博睿轩泽宸昊然天翔海亮晨阳毅鑫嘉振家兴德福贵荣庆永康瑞祥"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟秀霞玲燕红梅莉婷雪琳丹萍洁慧颖倩琴云兰英玉凤佳欣怡涵萱诗"
    "悦雅彤雨思梓可馨晴月蕾珊媛淑琪瑶妍"
)
NEUTRAL_CHARS = "子一文晓小思嘉佳宇安乐梓若亦心清晨"


def given_name(rng: random.Random, male: bool) -> str:
    pool = MALE_CHARS if male else FEMALE_CHARS
    if rng.random() < 0.3:
        return rng.choice(pool)
    first = rng.choice(NEUTRAL_CHARS + pool)
    second = rng.choice(pool)
    while second == first:
        second = rng.choice(pool)
    return first + second


def family_name(rng: random.Random) -> str:
    return rng.choices(_FAMILY, weights=_FAMILY_WEIGHTS)[0]
