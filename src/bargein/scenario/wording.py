"""What words do in a conversation: content words, stop requests and acknowledgements.

One definition each, used by the checks (does a reply address an interruption?) and by the
simulated caller (what is the agent talking about?).
"""

from __future__ import annotations

import re

from bargein.text import BACKCHANNEL_WORDS, normalize_words

#: Words that carry no topic: function words, politeness, fillers, common verbs and adverbs.
NOT_CONTENT = frozenset("""
a an the and or but so to of in on at for with about from by as into over after before than
then is are was were be been being am do does did done have has had having can could would
will shall should may might must i you he she we they it me him her us them my your his our
their its this that these those there here what which who whom whose how when where why
please just sorry thanks thank okay ok well really actually very also too quite much many
more most some any all each every no not yes yeah sure right oh uh um hello hi hey let let's
i'm you're we're it's that's there's i'll you'll we'll i've you've we've can't don't won't
isn't aren't one two three first second next last other another same such own only even
still again certainly course absolutely great good fine glad happy help like want need get
got make made take see say said tell told know think go going come give way thing things
something anything everything nothing lot bit kind sort wait hold
includes include covers cover lets means mean costs cost takes offers offer works work gives
comes starts start runs run needs has allows allow provides provide requires require contains
follows helps keeps keep shows show goes looks look seems seem becomes become gets makes
lasts depends depend applies apply stays stay ends end begins begin usually always often
never typically normally simply exactly
""".split())

# A caller asking the agent to stop, hold on, or take back what it said.
_STOP_REQUEST = re.compile(
    r"\b(wait|stop|hold (on|up)|hang on|one (moment|second|sec)|just a (moment|second|sec)"
    r"|that'?s (wrong|not (it|right|true|what))|that is (wrong|not)|not what i|you'?re wrong"
    r"|incorrect|no,? no|enough|excuse me|pause|cut (you )?(off|in)|stop you|slow down"
    r"|never ?mind|get to the point|go back)\b|^\s*no\b",
    re.IGNORECASE)
# Words of those requests (and of asking for pace), not a topic the reply must take up.
_REQUEST_WORDS = frozenset("""
wrong incorrect true enough excuse pause cut slow down never mind nevermind point asked ask
meant mean said talking listen hurry quick quickly busy time minute moment sec back part
repeat stop hang up on in off
""".split())

# The start of a reply that takes the interruption on board.
_ACKNOWLEDGEMENT = re.compile(
    r"^\W*(sure|of course|okay|ok|alright|all right|sorry|apologies|my apologies"
    r"|i apologi[sz]e|no problem|got it|understood|i understand|you'?re right|my mistake"
    r"|good point|certainly|absolutely|right|yes|go ahead|i hear you|thanks for|thank you for"
    r"|oh|ah|oops|let me (correct|fix|check|stop)|i'?ll stop|stopping)\b",
    re.IGNORECASE)
# Anywhere in a reply: it stops, listens, or corrects itself.
_YIELDING = re.compile(
    r"\b(i'?ll stop|stop(ping)? there|i'?ll pause|go ahead|i'?m listening|you were saying"
    r"|what did you (want|mean|need)|what would you like|how can i help|let me correct"
    r"|i was wrong|i made a mistake|i stand corrected)\b",
    re.IGNORECASE)
# A reply that carries on as if nothing had happened.
_RESUMING = re.compile(r"\b(as i was saying|anyway|to continue|continuing|moving on)\b",
                       re.IGNORECASE)


def content_words(text: str) -> set[str]:
    """The normalised words of ``text`` that can carry a topic (not function words, fillers
    or backchannels)."""
    return {w for w in normalize_words(text)
            if w not in NOT_CONTENT and w not in BACKCHANNEL_WORDS and not w.isdigit()}


def is_stop_request(text: str) -> bool:
    """True if ``text`` asks the agent to stop, wait, or take back what it said."""
    return bool(_STOP_REQUEST.search(text))


def request_topic(text: str) -> set[str]:
    """Content words of an interruption beyond the stop request itself ("Wait, what are your
    business hours?" -> {"business", "hours"}; "Wait, that's wrong!" -> set())."""
    return content_words(text) - _REQUEST_WORDS


def acknowledgement(reply: str) -> str | None:
    """The words by which ``reply`` takes an interruption on board ("Sure", "I'll stop
    there", "You're right"), or None; a reply that resumes ("as I was saying") has none."""
    if _RESUMING.search(reply):
        return None
    found = _ACKNOWLEDGEMENT.search(reply) or _YIELDING.search(reply)
    return found.group(0).strip(" ,.!?-—") if found else None
