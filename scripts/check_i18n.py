"""Checks that i18n/fr.po translates every term of a template (--pot, default the committed one),
with French typography: a no-break space (U+00A0, or the narrow U+202F) before ":", ";", "!", "?"
and inside « ».

--merge first updates fr.po from the template.
"""

import re
import sys
from pathlib import Path

import polib

I18N = Path(__file__).resolve().parent.parent / 'i18n'

NO_BREAK_SPACES = '\u00a0\u202f'
# What is no French prose, each left as a word so that the character before a ":" stays
# meaningful: addresses, format placeholders (%(name)s, %s, {name}, {0:>3}), HTML tags, times
# and ratios (12:30), code between backquotes.
NOT_PROSE = re.compile(r"""
    (?:https?|mailto|ftp)://?[^\s<>"']+
  | %\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]
  | %[-#0 +]*\d*(?:\.\d+)?[sdifr%]
  | \{[^{}\s]*\}
  | <[^<>]*>
  | \d+(?::\d+)+
  | `[^`]*`
""", re.VERBOSE)
BEFORE_PUNCTUATION = re.compile(f'(?<![{NO_BREAK_SPACES}])[:;!?]')
AFTER_OPENING_QUOTE = re.compile(f'«(?![{NO_BREAK_SPACES}])')
BEFORE_CLOSING_QUOTE = re.compile(f'(?<![{NO_BREAK_SPACES}])»')


def typography_errors(text):
    """What breaks French typography in `text`: a list of short excerpts around each fault."""
    prose = NOT_PROSE.sub('X', text)
    errors = []
    for pattern in (BEFORE_PUNCTUATION, AFTER_OPENING_QUOTE, BEFORE_CLOSING_QUOTE):
        for match in pattern.finditer(prose):
            start, end = max(0, match.start() - 12), match.end() + 12
            errors.append(prose[start:end].replace('\n', ' '))
    return errors


def main():
    pot_path = sys.argv[sys.argv.index('--pot') + 1] if '--pot' in sys.argv else (
        I18N / 'payment_alma.pot')
    pot = polib.pofile(str(pot_path))
    french = polib.pofile(str(I18N / 'fr.po'))
    if '--merge' in sys.argv:
        french.merge(pot)
        for entry in french.obsolete_entries():  # Terms the code no longer has.
            french.remove(entry)
        french.metadata['Language'] = 'fr'
        french.save()
    known = {(entry.msgctxt, entry.msgid): entry for entry in french if not entry.obsolete}
    missing = [entry.msgid for entry in pot if (entry.msgctxt, entry.msgid) not in known]
    untranslated = [entry.msgid for entry in french.untranslated_entries()]
    fuzzy = [entry.msgid for entry in french.fuzzy_entries()]
    # Odoo applies a translation to Python or JavaScript code only when its entry says so
    # (`#. odoo-python`, `#. odoo-javascript`): without it the French is silently unused.
    unmarked = [
        entry.msgid for entry in pot
        if (entry.msgctxt, entry.msgid) in known
        and any(f'odoo-{kind}' in (entry.comment or '')
                and f'odoo-{kind}' not in (known[entry.msgctxt, entry.msgid].comment or '')
                for kind in ('python', 'javascript'))
    ]
    typography = [
        f"{entry.msgid!r}: ...{excerpt}..."
        for entry in french if not entry.obsolete
        for text in [entry.msgstr, *entry.msgstr_plural.values()]
        for excerpt in typography_errors(text)
    ]
    # Odoo reads fr.po merged with the committed template: a term missing from that template
    # is made obsolete there, and its French never shown (scripts/i18n makes it anew).
    committed = {(entry.msgctxt, entry.msgid)
                 for entry in polib.pofile(str(I18N / 'payment_alma.pot'))}
    stale = [entry.msgid for entry in pot if (entry.msgctxt, entry.msgid) not in committed]
    for title, terms in (("missing from fr.po", missing), ("untranslated", untranslated),
                         ("fuzzy", fuzzy), ("not marked as code in fr.po (run --merge)", unmarked),
                         ("missing from i18n/payment_alma.pot (run scripts/i18n)", stale)):
        for term in terms:
            print(f"{title}: {term!r}")
    for fault in typography:
        print(f"French typography (no-break space before : ; ! ? and inside « »): {fault}")
    if missing or untranslated or fuzzy or unmarked or stale or typography:
        sys.exit(1)
    print(f"fr.po translates all {len(pot)} terms")


if __name__ == '__main__':
    main()
