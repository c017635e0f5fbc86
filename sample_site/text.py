"""Deterministic pseudo-English prose, headings, code and tables for the sample pages."""

from __future__ import annotations

import html
import random
import re
from collections.abc import Callable, Sequence

NOUNS = (
    "adapter", "archive", "attribute", "backend", "batch", "buffer", "cache", "callback",
    "channel", "checkpoint", "client", "column", "command", "connection", "cookie", "crawler",
    "database", "decoder", "directory", "document", "encoder", "endpoint", "engine", "event",
    "exporter", "extension", "feed", "field", "filter", "format", "handler", "header", "hook",
    "importer", "index", "instance", "item", "job", "journal", "key", "layout", "limit", "link",
    "loader", "lock", "logger", "manifest", "message", "method", "middleware", "mirror", "model",
    "module", "monitor", "namespace", "node", "option", "page", "parser", "payload", "pipeline",
    "plugin", "policy", "pool", "process", "profile", "project", "proxy", "query", "queue",
    "record", "registry", "release", "renderer", "report", "request", "resolver", "response",
    "result", "route", "scheduler", "schema", "selector", "serializer", "server", "session",
    "setting", "signal", "snapshot", "spider", "storage", "stream", "table", "task", "template",
    "thread", "token", "tracker", "transport", "validator", "version", "worker",
)  # fmt: skip
# (base, third person, gerund): irregular spellings are simpler to list than to derive.
VERBS = (
    ("store", "stores", "storing"), ("return", "returns", "returning"),
    ("create", "creates", "creating"), ("update", "updates", "updating"),
    ("read", "reads", "reading"), ("write", "writes", "writing"), ("send", "sends", "sending"),
    ("receive", "receives", "receiving"), ("validate", "validates", "validating"),
    ("parse", "parses", "parsing"), ("load", "loads", "loading"), ("save", "saves", "saving"),
    ("handle", "handles", "handling"), ("process", "processes", "processing"),
    ("schedule", "schedules", "scheduling"), ("cache", "caches", "caching"),
    ("filter", "filters", "filtering"), ("render", "renders", "rendering"),
    ("register", "registers", "registering"), ("resolve", "resolves", "resolving"),
    ("configure", "configures", "configuring"), ("override", "overrides", "overriding"),
    ("extend", "extends", "extending"), ("wrap", "wraps", "wrapping"),
    ("expose", "exposes", "exposing"), ("emit", "emits", "emitting"),
    ("collect", "collects", "collecting"), ("retry", "retries", "retrying"),
    ("limit", "limits", "limiting"), ("track", "tracks", "tracking"),
    ("export", "exports", "exporting"), ("import", "imports", "importing"),
    ("deploy", "deploys", "deploying"), ("monitor", "monitors", "monitoring"),
    ("debug", "debugs", "debugging"), ("test", "tests", "testing"),
    ("migrate", "migrates", "migrating"), ("optimize", "optimizes", "optimizing"),
    ("inspect", "inspects", "inspecting"), ("compress", "compresses", "compressing"),
)  # fmt: skip
ADJECTIVES = (
    "default", "custom", "optional", "new", "existing", "current", "global", "local", "internal",
    "external", "temporary", "persistent", "asynchronous", "remote", "shared", "empty", "valid",
    "first", "last", "next", "previous", "main", "simple", "large", "small", "stable", "nested",
    "cached", "pending", "active", "idle", "private", "public", "compressed", "incremental",
)  # fmt: skip
PREPOSITIONS = (
    "in", "on", "for", "with", "from", "into", "before", "after", "during", "without",
    "through", "by", "across", "behind", "under",
)  # fmt: skip
CONJUNCTIONS = ("and", "but", "so", "because", "while", "although", "unless", "when", "once")
OPENERS = (
    "Usually", "By default", "In most cases", "However", "For example", "In practice",
    "Optionally", "Internally", "As a result", "Alternatively", "In this case", "Afterwards",
)  # fmt: skip
SUFFIXES = ("size", "limit", "path", "name", "timeout", "enabled", "count", "mode")
SINGULAR_DETERMINERS = ("the", "the", "the", "a", "each", "every", "this", "that", "your")
PLURAL_DETERMINERS = ("the", "the", "some", "all", "these", "many", "most", "your")
LINK_LEADS = (", see ", ", as described in ", " (see ", " (details in ", "; read ", ", like ")
PYTHON_KEYWORDS = frozenset((
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
))  # fmt: skip
TOKEN_CLASSES = {
    "comment": "c1", "doc": "sd", "string": "s2", "number": "mi", "op": "o", "punct": "p",
}  # fmt: skip
PYTHON_CONSTANTS = frozenset(("True", "False", "None"))
PYTHON_TOKEN = re.compile(
    r'(?P<comment>#[^\n]*)|(?P<doc>"""[^"]*""")|(?P<string>"[^"\n]*")|(?P<number>\b\d+\b)'
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[=<>+\-*/%]+)|(?P<punct>[()\[\]{}:,.])"
    r"|(?P<space>\s+)|(?P<other>.)"
)


def plural(noun: str) -> str:
    """English plural of a noun from NOUNS."""
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def article(word: str) -> str:
    """'a' or 'an' for the word that follows."""
    return "an" if word[0] in "aeiou" else "a"


def slugify(text: str) -> str:
    """A lower-case, hyphenated id, as docutils and Python-Markdown make them."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def highlight_python(code: str) -> str:
    """Pygments-like HTML spans for a Python snippet."""
    out: list[str] = []
    previous = ""
    for match in PYTHON_TOKEN.finditer(code):
        kind, value = match.lastgroup, match.group()
        text = html.escape(value, quote=False)
        if kind == "name":
            if value in ("import", "from"):
                css = "kn"
            elif value in PYTHON_KEYWORDS:
                css = "k"
            elif value in PYTHON_CONSTANTS:
                css = "kc"
            elif previous == "def":
                css = "nf"
            elif previous == "class":
                css = "nc"
            elif previous in ("import", "from"):
                css = "nn"
            else:
                css = "n"
            previous = value
        else:
            css = TOKEN_CLASSES.get(kind or "", "")
            if kind != "space":
                previous = value
        out.append(f'<span class="{css}">{text}</span>' if css else text)
    return "".join(out)


def highlight_console(code: str) -> str:
    """Pygments-like HTML spans for a shell session: prompts and output."""
    out: list[str] = []
    for line in code.splitlines(keepends=True):
        if line.startswith("$ "):
            out.append('<span class="gp">$ </span>' + html.escape(line[2:], quote=False))
        else:
            out.append(f'<span class="go">{html.escape(line.rstrip(), quote=False)}</span>\n')
    return "".join(out)


def highlight(language: str, code: str) -> str:
    """Highlighted HTML for a snippet from Writer.code."""
    return highlight_python(code) if language == "python" else highlight_console(code)


class Writer:
    """Generates text from a seeded random source, so the same seed gives the same page."""

    def __init__(self, seed: str):
        self.rng = random.Random(seed)

    def noun_phrase(self) -> tuple[str, bool]:
        """A determiner, maybe an adjective, and a noun; and whether it is plural."""
        rng = self.rng
        noun = rng.choice(NOUNS)
        is_plural = rng.random() < 0.35
        if is_plural:
            noun = plural(noun)
        if rng.random() < 0.4:
            noun = f"{rng.choice(ADJECTIVES)} {noun}"
        determiner = rng.choice(PLURAL_DETERMINERS if is_plural else SINGULAR_DETERMINERS)
        if determiner == "a":
            determiner = article(noun)
        return f"{determiner} {noun}", is_plural

    def clause(self) -> str:
        """Subject, verb, object and maybe a prepositional phrase."""
        rng = self.rng
        subject, is_plural = self.noun_phrase()
        base, third, _ = rng.choice(VERBS)
        words = [subject, base if is_plural else third, self.noun_phrase()[0]]
        if rng.random() < 0.6:
            words += [rng.choice(PREPOSITIONS), self.noun_phrase()[0]]
        return " ".join(words)

    def sentence(self) -> str:
        """One capitalised sentence of roughly 6 to 22 words."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            text = f"{rng.choice(OPENERS)}, {self.clause()}"
        elif roll < 0.5:
            text = f"{self.clause()} {rng.choice(CONJUNCTIONS)} {self.clause()}"
        elif roll < 0.62:
            base, _, _ = rng.choice(VERBS)
            text = (
                f"you can {base} {self.noun_phrase()[0]} {rng.choice(PREPOSITIONS)} "
                + (self.noun_phrase()[0])
            )
        elif roll < 0.72:
            base, _, _ = rng.choice(VERBS)
            text = f"to {base} {self.noun_phrase()[0]}, {self.clause()}"
        else:
            text = self.clause()
        return text[0].upper() + text[1:] + "."

    def paragraph(
        self,
        literal: Callable[[str], str],
        anchors: Sequence[str] = (),
        sentences: tuple[int, int] = (3, 6),
    ) -> tuple[str, int]:
        """HTML of one paragraph with inline literals and the given anchors; and its word count."""
        rng = self.rng
        parts = [html.escape(self.sentence()) for _ in range(rng.randint(*sentences))]
        if rng.random() < 0.5:
            index = rng.randrange(len(parts))
            parts[index] = parts[index].replace(" the ", f" the {literal(self.identifier())} ", 1)
        free = list(range(len(parts)))
        for anchor in anchors:
            index = free.pop(rng.randrange(len(free))) if free else rng.randrange(len(parts))
            lead = rng.choice(LINK_LEADS)
            parts[index] = parts[index][:-1] + f"{lead}{anchor}{')' if '(' in lead else ''}."
        text = " ".join(parts)
        return text, len(re.sub(r"<[^>]+>", " ", text).split())

    def identifier(self) -> str:
        """A snake_case name such as ``cache_size``."""
        return f"{self.rng.choice(NOUNS)}_{self.rng.choice(SUFFIXES)}"

    def function_name(self) -> str:
        """A verb_noun function name such as ``load_record``."""
        return f"{self.rng.choice(VERBS)[0]}_{self.rng.choice(NOUNS)}"

    def heading(self) -> str:
        """A section title such as 'Configuring the shared cache'."""
        rng = self.rng
        _, _, gerund = rng.choice(VERBS)
        noun = rng.choice(NOUNS)
        if rng.random() < 0.5:
            noun = f"{rng.choice(ADJECTIVES)} {noun}"
        if rng.random() < 0.3:
            noun = plural(noun)
            return f"{gerund.capitalize()} {noun}"
        return f"{gerund.capitalize()} the {noun}"

    def question(self) -> str:
        """An FAQ-style question."""
        rng = self.rng
        base, _, _ = rng.choice(VERBS)
        noun = rng.choice(NOUNS)
        return f"How do I {base} {article(noun)} {noun} {rng.choice(PREPOSITIONS)} a " + (
            f"{rng.choice(NOUNS)}?"
        )

    def list_items(self) -> list[str]:
        """Three to five short sentences for a bullet list."""
        return [html.escape(self.sentence()) for _ in range(self.rng.randint(3, 5))]

    def code(self) -> tuple[str, str]:
        """A (language, source) pair: mostly Python, sometimes a shell session."""
        rng = self.rng
        module = rng.choice(NOUNS)
        if rng.random() < 0.25:
            command = rng.choice(VERBS)[0]
            return "console", (
                f"$ pip install sampleproj[{module}]\n"
                f"$ sampleproj {command} --{rng.choice(NOUNS)}-limit {rng.randint(2, 64)}\n"
                f"{rng.choice(NOUNS)}: {rng.randint(1, 500)} {plural(rng.choice(NOUNS))} ok\n"
            )
        func = self.function_name()
        noun = rng.choice(NOUNS)
        limit = rng.randint(2, 10)
        lines = [
            f"from sampleproj import {module}",
            "",
            "",
            f"def {func}(config, *, retries={limit}):",
            f'    """{self.sentence()}"""',
            f"    client = {module}.Client(config)",
            "    for attempt in range(retries):",
            f'        result = client.{rng.choice(VERBS)[0]}("{noun}", attempt=attempt)',
            "        if result is not None and result.ok:",
            "            return result",
            f"    # {self.sentence()}",
            f"    return {rng.choice(('None', 'False', '[]'))}",
        ]
        return "python", "\n".join(lines) + "\n"

    def table(self) -> tuple[list[str], list[list[str]]]:
        """A settings table: header and rows of plain text."""
        rng = self.rng
        rows = []
        for _ in range(rng.randint(3, 6)):
            kind = rng.choice(("int", "str", "bool", "float", "list"))
            default = {
                "int": str(rng.randint(0, 512)),
                "str": f'"{rng.choice(NOUNS)}"',
                "bool": rng.choice(("True", "False")),
                "float": f"{rng.randint(1, 90) / 10}",
                "list": "[]",
            }[kind]
            description = self.sentence()
            rows.append([self.identifier(), kind, default, description])
        return ["Option", "Type", "Default", "Description"], rows
