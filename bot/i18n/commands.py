"""Slash-command syntax inside a sentence, in the names the member's client shows.

Catalog templates in every language write a command as it is declared (`/jobs job:{job_id}`, `/config modlog`,
`/quota set|clear`); here it gets the language's names from its command list (zh-CN: commands_zh.NAMES), the
same ones Discord shows the member, so `/任务 任务编号:7K3QZ2MD` is generated, never retyped, and follows a rename.
Option names (`job:`) are renamed inside the command's code span only, where they are syntax; command and
subcommand names wherever a `/command` stands.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.i18n.commands_zh import CHOICES as ZH_CHOICES
from bot.i18n.commands_zh import NAMES as ZH_NAMES

_NAMES: dict[str, Mapping[str, str]] = {"zh-CN": ZH_NAMES}
_CHOICES: dict[str, Mapping[str, str]] = {"zh-CN": ZH_CHOICES}
# A `/` that starts a word (not a URL, a fraction like $1.20/$2.00 or a unit like km/s), then a name.
_COMMAND = re.compile(r"(?<![\w/.:}$])/([a-z][a-z0-9_]*)(?![\w])")
_SUBCOMMAND = re.compile(r"([ |])([a-z][a-z0-9_]*)(?![\w:])")
_OPTION = re.compile(r"(?<=\s)([a-z][a-z0-9_]*):")
_BARE_OPTION = re.compile(r"`([a-z][a-z0-9_]*)`")


def localise_commands(template: str, locale: str) -> str:
    """`template` with every `/command sub option:` in `locale`'s names (unchanged where there are none)."""
    names = _NAMES.get(locale)
    if names is None:
        return template
    out: list[str] = []
    done = 0
    for found in _COMMAND.finditer(template):
        if found.start() < done or found[1] not in names:
            continue
        out += [template[done:found.start()], "/", names[found[1]]]
        done = found.end()
        while (sub := _SUBCOMMAND.match(template, done)) is not None and sub[2] in names:
            out += [sub[1], names[sub[2]]]
            done = sub.end()
        if template.count("`", 0, found.start()) % 2:  # inside a code span: its options are syntax too
            end = template.find("`", done)
            end = len(template) if end < 0 else end
            out.append(_OPTION.sub(lambda option: f"{names.get(option[1], option[1])}:", template[done:end]))
            done = end
    out.append(template[done:])
    # An option named on its own, as a code span (choose the `role`): its name in the language too.
    return _BARE_OPTION.sub(lambda bare: f"`{names[bare[1]]}`" if bare[1] in names else bare[0], "".join(out))


def choice_label(value: str, locale: str) -> str:
    """A command choice's value (`small`, `day`, `server`) as the member's client labels it."""
    return _CHOICES.get(locale, {}).get(value, value)
