"""What the benchmark's simulated callers say: barge-in phrases, backchannels, paused
sentences and the sentences of monologues (also the babble's script)."""

from __future__ import annotations

__all__ = [
    "BACKCHANNELS",
    "LONG_BARGE_INS",
    "MONOLOGUE_SENTENCES",
    "PAUSED_SENTENCES",
    "SHORT_BARGE_INS",
]


SHORT_BARGE_INS = (
    "Stop.", "Wait.", "Hold on.", "No, no.", "Excuse me.", "Hang on.", "Sorry, wait.",
    "Stop, please.", "One second.", "Not that.",
)  # fmt: skip
LONG_BARGE_INS = (
    "Sorry, can you tell me about refunds instead?",
    "Wait, what are your opening hours?",
    "Hold on, I need to speak to a person.",
    "Actually, I want to cancel my account.",
    "Sorry to cut in, how much does it cost?",
    "No, I asked about my bill, not the features.",
    "Yes, but what about shipping to Canada?",
    "Right, and how do I change my password?",
    "Can I stop you there, my order never arrived.",
    "Excuse me, is there a discount for students?",
)
#: What a backchannel case says: each of the five alone, and a few doubled.
BACKCHANNELS = (
    "Uh-huh.", "Mm-hmm.", "Yeah.", "Right.", "Okay.",
    "Uh-huh, yeah.", "Mm-hmm, okay.", "Yeah, right.",
)  # fmt: skip
PAUSED_SENTENCES = (
    ("I'd like to book a table for", "four people on Friday evening."),
    ("My account number is", "four five seven two one nine."),
    ("Can you check whether my order", "has been shipped yet?"),
    ("I was wondering if", "you could help me with my bill."),
    ("The problem started when I", "updated the app last week."),
    ("Could you send the invoice to", "my work email address?"),
    ("I moved house in March and", "I need to change my address."),
    ("What I really want to know is", "how long the warranty lasts."),
    ("I tried to pay with my", "credit card but it failed."),
    ("Please transfer me to", "someone in the billing team."),
)
MONOLOGUE_SENTENCES = (
    "My bill from last month looks wrong.",
    "I moved house in March.",
    "I changed my address on your website.",
    "Then a letter went to my old flat.",
    "My neighbour kept it for two weeks.",
    "The late fee was added anyway.",
    "I called twice and nobody called back.",
    "My sister had the same problem last year.",
    "She had to write a letter in the end.",
    "I really do not want to do that.",
    "I have been a customer for ten years.",
    "I always paid on time until now.",
)
