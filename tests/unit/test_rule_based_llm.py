"""RuleBasedLLM: intents, determinism, streaming timing, instructions, interruptions, tools."""

from __future__ import annotations

import asyncio
import json

import pytest

from bargein.providers.latency import Fixed
from bargein.providers.llm import LLM, ChatMessage, LLMChunk, ToolSpec
from bargein.providers.rule_based_llm import (
    Intent,
    RuleBasedLLM,
    default_support_intents,
    wants_acknowledge_and_redirect,
)
from bargein.sim import run_simulation
from bargein.text import words


def user(text: str) -> ChatMessage:
    return ChatMessage("user", text)


async def collect(llm: RuleBasedLLM, messages, **kw) -> list[tuple[float, LLMChunk]]:
    loop = asyncio.get_running_loop()
    out = []
    async for chunk in llm.chat(messages, **kw):
        out.append((loop.time(), chunk))
    return out


def reply_text(llm: RuleBasedLLM, messages, **kw) -> str:
    chunks = run_simulation(collect(llm, messages, **kw))
    return "".join(c.text for _, c in chunks)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Hello there!", "greeting"),
        ("Hi, I have a question about my bill", "billing"),
        ("Why was I charged twice?", "billing"),
        ("I can't log in to my account", "account_support"),
        ("How do I open an account?", "account_support"),
        ("What are your business hours?", "business_hours"),
        ("When can I call support?", "business_hours"),
        ("What are your opening hours?", "opening_hours"),
        ("Is the store open on Sunday?", "opening_hours"),
        ("What features does the premium plan have?", "product_features"),
        ("I want a refund", "refund"),
        ("Can I get my money back?", "refund"),
        ("Thanks a lot", "thanks"),
        ("OK, goodbye", "goodbye"),
        ("Sorry, can you repeat that?", "repeat"),
        ("The weather is purple today", None),
    ],
)
def test_intent_selection(text, intent):
    assert RuleBasedLLM().reply_for([user(text)]).intent == intent


def test_uses_the_last_user_message():
    llm = RuleBasedLLM()
    msgs = [
        ChatMessage("system", "You are a support agent."),
        user("I want a refund"),
        ChatMessage("assistant", "I can help you with a refund."),
        user("What are your opening hours?"),
    ]
    assert llm.reply_for(msgs).intent == "opening_hours"


def test_implements_llm_protocol():
    assert isinstance(RuleBasedLLM(), LLM)


def test_fallback_when_no_intent_matches():
    llm = RuleBasedLLM(fallback="Sorry, say again?")
    assert reply_text(llm, [user("zzz")]) == "Sorry, say again?"


def test_info_replies_are_long_enough_to_interrupt():
    llm = RuleBasedLLM()
    info = ["billing", "account_support", "business_hours", "opening_hours"]
    info += ["product_features", "refund"]
    prompts = {
        "billing": "my bill",
        "account_support": "my account",
        "business_hours": "business hours",
        "opening_hours": "opening hours",
        "product_features": "features",
        "refund": "refund",
    }
    for name in info:
        text = llm.reply_for([user(prompts[name])]).text
        n = len(words(text))
        seconds = n / 175 * 60
        assert 8.0 <= seconds <= 20.0, (name, n, seconds)
        assert text.count(".") >= 3, name  # several sentences


def test_deterministic_output_and_seeded_list_choice():
    msgs = [user("hello")]
    a = reply_text(RuleBasedLLM(seed=1), msgs)
    b = reply_text(RuleBasedLLM(seed=1), msgs)
    assert a == b
    replies = ["One reply here.", "Two reply here.", "Three reply here.", "Four reply here."]
    intents = [Intent("hi", ["hi"], replies)]
    chosen = {RuleBasedLLM(intents, seed=s).reply_for([user("hi")]).text for s in range(12)}
    assert chosen <= set(replies) and len(chosen) > 1  # the seed varies the choice
    same_seed = {RuleBasedLLM(intents, seed=3).reply_for([user("hi")]).text for _ in range(5)}
    assert len(same_seed) == 1


def test_streams_word_by_word_on_the_loop_clock():
    llm = RuleBasedLLM(
        [Intent("hours", ["hours"], "We open at nine and close at five.")],
        ttft=Fixed(0.3),
        tokens_per_second=40.0,
    )

    async def main():
        start = asyncio.get_running_loop().time()
        chunks = await collect(llm, [user("hours?")])
        return [(t - start, c.text) for t, c in chunks]

    timed = run_simulation(main())
    texts = [t for _, t in timed]
    assert texts == ["We", " open", " at", " nine", " and", " close", " at", " five."]
    for i, (t, _) in enumerate(timed):
        assert t == pytest.approx(0.3 + i / 40.0, abs=1e-9)


def test_no_rate_streams_all_words_at_ttft():
    llm = RuleBasedLLM([Intent("x", ["x"], "a b c")], ttft=Fixed(0.5), tokens_per_second=None)
    timed = run_simulation(collect(llm, [user("x")]))
    assert [t for t, _ in timed] == [pytest.approx(0.5)] * 3


def test_bad_rate_is_rejected():
    with pytest.raises(ValueError, match="tokens_per_second"):
        RuleBasedLLM(tokens_per_second=0)


def test_cancelling_the_stream_stops_it():
    llm = RuleBasedLLM()

    async def main():
        got = []

        async def consume():
            async for chunk in llm.chat([user("my bill")]):
                got.append(chunk.text)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3 + 4.5 / 40)  # TTFT plus four more words
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return got

    assert len(run_simulation(main())) == 5


RECIPE_INSTRUCTIONS = (
    "You are an agent that politely interrupts users who speak too much. Create a brief "
    "response that acknowledges what they've said so far, then redirects to get more focused "
    "information."
)


def test_instruction_detection():
    assert wants_acknowledge_and_redirect(RECIPE_INSTRUCTIONS)
    assert wants_acknowledge_and_redirect(
        "The user talked too long: acknowledge briefly and refocus on their main question."
    )
    assert not wants_acknowledge_and_redirect("You are a helpful support agent.")


def test_acknowledge_and_redirect_from_recipe_style_context():
    llm = RuleBasedLLM()
    said = (
        "So yesterday I was looking at my invoice and it was way higher than last month, "
        "and my neighbour said the same thing, and I also wondered about the weather."
    )
    msgs = [
        ChatMessage("system", RECIPE_INSTRUCTIONS),
        user(f"User has been speaking and said: {said}"),
    ]
    reply = llm.reply_for(msgs)
    assert reply.redirected and reply.intent == "billing"
    first_sentence = reply.text.split(".")[0]
    assert '"So yesterday I was looking at' in first_sentence  # quotes their words
    assert "User has been" not in reply.text
    assert "main question, about your bill" in reply.text
    assert reply_text(llm, msgs) == reply.text


def test_acknowledge_and_redirect_from_trailing_system_message():
    llm = RuleBasedLLM()
    msgs = [
        ChatMessage("system", "You are a helpful support agent."),
        user("hi"),
        ChatMessage("assistant", "Hello, how can I help?"),
        user("Well, it's a long story, my password stopped working after the update and then"),
        ChatMessage(
            "system",
            "The user talked too long: acknowledge briefly and refocus on their main question.",
        ),
    ]
    reply = llm.reply_for(msgs)
    assert reply.text.startswith("I hear you, you said \"Well it's a long story my")
    assert reply.intent == "account_support" and reply.redirected


def test_redirect_without_a_known_topic_asks_for_focus():
    llm = RuleBasedLLM()
    msgs = [ChatMessage("system", RECIPE_INSTRUCTIONS), user("blah blah blah the cat and dog")]
    reply = llm.reply_for(msgs)
    assert reply.redirected and reply.intent is None
    assert reply.text.startswith('I hear you, you said "blah blah blah the cat and..."')
    assert reply.text.endswith("?")


def test_old_instructions_do_not_leak_into_later_turns():
    llm = RuleBasedLLM()
    msgs = [
        ChatMessage("system", RECIPE_INSTRUCTIONS),
        user("my bill is wrong"),
        ChatMessage("assistant", "I hear you..."),
        user("what are your opening hours?"),
    ]
    reply = llm.reply_for(msgs)
    assert not reply.redirected and reply.intent == "opening_hours"


def test_reply_after_interruption_addresses_the_interrupting_words():
    llm = RuleBasedLLM()
    msgs = [
        user("Tell me about your product features"),
        ChatMessage("assistant", "Our plans all include unlimited projects,", interrupted=True),
        user("Actually, what are your opening hours?"),
    ]
    reply = llm.reply_for(msgs)
    assert reply.after_interruption and reply.intent == "opening_hours"
    assert reply.text.startswith("Sure — our stores are open")


def test_interruption_without_a_question_stops_politely():
    llm = RuleBasedLLM()
    msgs = [
        user("my bill"),
        ChatMessage("assistant", "Happy to help", interrupted=True),
        user("wait wait"),
    ]
    assert llm.reply_for(msgs).text == "Sure, I'll stop there. What would you like to know instead?"


def test_no_prefix_when_previous_reply_was_not_interrupted():
    llm = RuleBasedLLM()
    msgs = [
        user("my bill"),
        ChatMessage("assistant", "Happy to help with billing."),
        user("what are your opening hours?"),
    ]
    assert llm.reply_for(msgs).text.startswith("Our stores are open")


def test_repeat_gives_the_full_previous_reply_even_if_it_was_cut():
    llm = RuleBasedLLM()
    full = llm.reply_for([user("refund please")]).text
    msgs = [
        user("refund please"),
        ChatMessage("assistant", " ".join(full.split()[:6]), interrupted=True),
        user("sorry, can you repeat that?"),
    ]
    reply = llm.reply_for(msgs)
    assert reply.intent == "repeat"
    assert reply.text.endswith(full)
    # A previous reply this LLM did not produce (e.g. session.say) is repeated as heard.
    msgs2 = [user("hi"), ChatMessage("assistant", "Welcome to the show."), user("pardon?")]
    assert llm.reply_for(msgs2).text == "Here it is again. Welcome to the show."


def test_agent_speaks_first_with_the_greeting():
    llm = RuleBasedLLM()
    reply = llm.reply_for([ChatMessage("system", "You are a support agent.")])
    assert reply.intent == "greeting"


def test_callable_reply_gets_the_context():
    def echo(ctx):
        return f"You said {ctx.match.group(1)} on turn {ctx.turn}."

    llm = RuleBasedLLM([Intent("order", [r"order (\d+)"], echo)])
    assert llm.reply_for([user("where is order 42")]).text == "You said 42 on turn 1."


def test_keyword_patterns_match_whole_words_only():
    intent = Intent("bill", ["bill"], "x")
    assert intent.search("my bill is high") is not None
    assert intent.search("a billion things") is None


def test_tool_call_intent():
    lookup = Intent(
        "order_status",
        [r"order (\d+)"],
        "Your order is {result}.",
        topic="your order",
        tool="lookup_order",
        tool_arguments=lambda ctx: {"order_id": ctx.match.group(1)},
    )
    llm = RuleBasedLLM([lookup, *default_support_intents()])
    tool = ToolSpec("lookup_order", "Look up an order", {"type": "object", "properties": {}})
    msgs = [user("where is order 42?")]

    chunks = run_simulation(collect(llm, msgs, tools=[tool]))
    assert len(chunks) == 1
    t, chunk = chunks[0]
    assert t == pytest.approx(0.3) and chunk.text == ""
    (call,) = chunk.tool_calls
    assert call.name == "lookup_order" and json.loads(call.arguments) == {"order_id": "42"}

    # The tool's result comes back: the reply uses it.
    msgs += [
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "out for delivery", tool_call_id=call.id),
    ]
    assert reply_text(llm, msgs, tools=[tool]) == "Your order is out for delivery."

    # Tool not offered: no call, the plain reply is used.
    plain = llm.reply_for([user("where is order 42?")])
    assert not plain.tool_calls and plain.intent == "order_status"


def test_tools_may_be_given_as_openai_dicts():
    llm = RuleBasedLLM([Intent("t", ["time"], "", tool="get_time")])
    tools = [{"type": "function", "function": {"name": "get_time", "parameters": {}}}]
    reply = llm.reply_for([user("what time is it")], tools=tools)
    assert reply.tool_calls[0].name == "get_time" and reply.tool_calls[0].arguments == "{}"


def test_intent_validation():
    with pytest.raises(TypeError):
        Intent("x", "not a list")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique"):
        RuleBasedLLM([Intent("a", ["a"], "x"), Intent("a", ["b"], "y")])
