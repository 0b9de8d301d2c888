"""The default intents of the rule-based responder: a customer-support agent's canned replies."""

from __future__ import annotations

from bargein.providers.rule_based_intents import Intent, ReplyContext

__all__ = ["default_support_intents"]


def _repeat_previous(ctx: ReplyContext) -> str:
    previous = ctx.previous_reply()
    if not previous:
        return "I haven't said anything yet. How can I help you today?"
    return f"Here it is again. {previous}"


def default_support_intents() -> list[Intent]:
    """The default intents of a customer-support voice agent.

    The information replies are several sentences long (roughly 10 to 20 seconds when
    spoken at 175 words per minute), so there is time to interrupt them.
    """
    return [
        Intent(
            "repeat",
            [
                r"\brepeat\b",
                "say that again",
                "come again",
                r"\bwhat did you (just )?say\b",
                r"^\W*(sorry,? )?what\W*$",  # "Sorry, what?" alone, not "Sorry, what are..."
                r"\bpardon\b",
                r"\bdidn'?t (quite )?(catch|hear|get) (that|it|you)\b",
            ],
            _repeat_previous,
            priority=2,
        ),
        Intent(
            "greeting",
            [r"\b(hi|hello|hey|hiya|good (morning|afternoon|evening))\b"],
            [
                "Hello, and thanks for calling Acme support. I'm the automated assistant. I "
                "can help with billing, your account, our hours, product features and "
                "refunds. What can I do for you today?",
                "Hi there, welcome to Acme support. I'm an automated assistant, and I can help "
                "with billing, account questions, our hours, our products and refunds. How "
                "can I help you today?",
            ],
            priority=0,
        ),
        Intent(
            "billing",
            [r"\b(bill(s|ing|ed)?|invoices?|charge[sd]?|overcharged|payments?|pay)\b"],
            "Happy to help with billing. Your invoice is issued on the first day of each month "
            "and payment is due within fourteen days. You can pay by card, bank transfer or "
            "direct debit. Every invoice is listed in your online account under Billing. "
            "If a charge looks wrong, tell me its date and I will check it.",
            topic="your bill",
        ),
        Intent(
            "account_support",
            [
                r"\baccount\b",
                r"\bpassword\b",
                r"\blog ?in\b",
                r"\bsign ?in\b",
                r"\busername\b",
                r"\blocked out\b",
                r"\bemail address\b",
            ],
            "Let's sort out your account. If you cannot sign in, use the Forgot password link "
            "on the sign in page and we will email you a reset link. To change your email "
            "address or phone number, open Settings, then Profile. "
            "If your account is locked after too many attempts, it unlocks by itself after "
            "thirty minutes.",
            topic="your account",
        ),
        Intent(
            "business_hours",
            [
                "business hours",
                "support hours",
                "office hours",
                "customer service hours",
                r"\bwhen can i (call|reach|contact)\b",
                r"\bwhat time can i (call|reach)\b",
            ],
            "Our support team is available Monday to Friday from eight in the morning to eight "
            "in the evening, and on Saturdays from nine to one. Outside those hours I can "
            "still help with most questions, and you can leave a message for a call back on "
            "the next working day. Public holidays follow the Saturday hours.",
            topic="our support hours",
        ),
        Intent(
            "opening_hours",
            [
                r"\bopening (hours|times)\b",
                "store hours",
                r"\b(are|is) (you|the store|the shop|it) open\b",
                r"\bwhen do(es)? (you|the store|the shop|it) (open|close)\b",
                r"\bclosing time\b",
                r"\byour hours\b",
            ],
            "Our stores are open from nine in the morning to six in the evening on weekdays, "
            "and from ten to five on Saturdays. On Sundays only the city centre store is open, "
            "from eleven to four. Opening hours can change around public holidays, so please "
            "check the store page on our website before you travel.",
            topic="our opening hours",
        ),
        Intent(
            "product_features",
            [
                r"\bfeatures?\b",
                r"\bwhat can (it|the product|the app) do\b",
                r"\bdoes (it|the product|the app) (support|have|work)\b",
                r"\b(products?|plans?|premium|integrations?)\b",
            ],
            "Our plans all include unlimited projects, shared workspaces, and the mobile app "
            "for phones and tablets. The Premium plan adds offline mode, priority support, "
            "and integrations with popular calendar and storage services. Every plan comes "
            "with a thirty day free trial, and you can switch plans at any time from your "
            "account settings.",
            topic="our product features",
        ),
        Intent(
            "refund",
            [r"\brefunds?\b", r"\bmoney back\b", r"\breturn(ing)? (it|this|my|the)\b"],
            "I can help you with a refund. Purchases can be refunded in full within thirty days, "
            "as long as the item is unused and in its original packaging. Once we receive the "
            "return, the money goes back to your original payment method within a week. I "
            "can start a return now if you have your order number.",
            topic="a refund",
        ),
        Intent(
            "goodbye",
            [r"\b(good ?bye|bye|see you|that's all|that is all|have a (nice|good) day)\b"],
            "Thanks for calling Acme support. Have a great day, goodbye!",
            priority=0,
        ),
        Intent(
            "thanks",
            [r"\b(thanks|thank you|cheers|appreciate it)\b"],
            "You're very welcome. Is there anything else I can help you with today?",
            priority=0,
        ),
    ]
