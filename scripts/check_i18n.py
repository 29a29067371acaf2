"""Checks that each catalogue of i18n/ (fr, de, es, it, nl: the languages of Alma's countries)
translates every term of a template (--pot, default the committed one), with its language's
typography: in French a no-break space (U+00A0, or the narrow U+202F) before ":", ";", "!", "?"
and inside « »; in the others no space before them.

--merge first updates each catalogue from the template.
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


# Outside French, ":" ";" "!" "?" follow the word, with no space (German, Spanish, Italian, Dutch).
SPACE_BEFORE_PUNCTUATION = re.compile(f'[ {NO_BREAK_SPACES}][:;!?]')
LANGUAGES = ('fr', 'de', 'es', 'it', 'nl')


def typography_errors(text, lang='fr'):
    """What breaks `lang`'s typography in `text`: a list of short excerpts around each fault."""
    prose = NOT_PROSE.sub('X', text)
    errors = []
    patterns = ((BEFORE_PUNCTUATION, AFTER_OPENING_QUOTE, BEFORE_CLOSING_QUOTE) if lang == 'fr'
                else (SPACE_BEFORE_PUNCTUATION,))
    for pattern in patterns:
        for match in pattern.finditer(prose):
            start, end = max(0, match.start() - 12), match.end() + 12
            errors.append(prose[start:end].replace('\n', ' '))
    return errors


def catalogue_errors(lang, pot, committed, merge=False):
    """What is wrong with i18n/<lang>.po against the template `pot`: a list of lines."""
    path = I18N / f'{lang}.po'
    catalogue = polib.pofile(str(path))
    if merge:
        catalogue.merge(pot)
        for entry in catalogue.obsolete_entries():  # Terms the code no longer has.
            catalogue.remove(entry)
        catalogue.metadata['Language'] = lang
        catalogue.save()
    known = {(entry.msgctxt, entry.msgid): entry for entry in catalogue if not entry.obsolete}
    missing = [entry.msgid for entry in pot if (entry.msgctxt, entry.msgid) not in known]
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    # Odoo applies a translation to Python or JavaScript code only when its entry says so
    # (`#. odoo-python`, `#. odoo-javascript`): without it the translation is silently unused.
    unmarked = [
        entry.msgid for entry in pot
        if (entry.msgctxt, entry.msgid) in known
        and any(f'odoo-{kind}' in (entry.comment or '')
                and f'odoo-{kind}' not in (known[entry.msgctxt, entry.msgid].comment or '')
                for kind in ('python', 'javascript'))
    ]
    typography = [
        f"{entry.msgid!r}: ...{excerpt}..."
        for entry in catalogue if not entry.obsolete
        for text in [entry.msgstr, *entry.msgstr_plural.values()]
        for excerpt in typography_errors(text, lang)
    ]
    # Odoo reads a catalogue merged with the committed template: a term missing from that
    # template is made obsolete there, and its translation never shown (scripts/i18n makes it).
    stale = [entry.msgid for entry in pot if (entry.msgctxt, entry.msgid) not in committed]
    errors = [
        f"{lang}: {title}: {term!r}"
        for title, terms in ((f"missing from {lang}.po", missing), ("untranslated", untranslated),
                             ("fuzzy", fuzzy),
                             (f"not marked as code in {lang}.po (run --merge)", unmarked),
                             ("missing from i18n/payment_alma.pot (run scripts/i18n)", stale))
        for term in terms
    ]
    errors += [f"{lang}: typography (see this script's docstring): {fault}"
               for fault in typography]
    return errors


def main():
    pot_path = sys.argv[sys.argv.index('--pot') + 1] if '--pot' in sys.argv else (
        I18N / 'payment_alma.pot')
    pot = polib.pofile(str(pot_path))
    committed = {(entry.msgctxt, entry.msgid)
                 for entry in polib.pofile(str(I18N / 'payment_alma.pot'))}
    errors = [error for lang in LANGUAGES
              for error in catalogue_errors(lang, pot, committed, merge='--merge' in sys.argv)]
    for error in errors:
        print(error)
    if errors:
        sys.exit(1)
    print(f"{', '.join(f'{lang}.po' for lang in LANGUAGES)} translate all {len(pot)} terms")


if __name__ == '__main__':
    main()
