"""French formatting for the customer pages, the SMS texts and the accounting export."""

from datetime import date, datetime, timedelta, timezone

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def euros(cents: int) -> str:
    """Amount with its cents, as on a French receipt: `1 234,50 €`, `133,00 €`."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{_group_thousands(units)},{rest:02d} €"


def short_euros(cents: int) -> str:
    """Amount without a useless `,00` (SMS texts): `399 €`, `100,50 €`."""
    if cents % 100:
        return euros(cents)
    sign = "-" if cents < 0 else ""
    return f"{sign}{_group_thousands(abs(cents) // 100)} €"


def _group_thousands(units: int) -> str:
    # A plain space (not a narrow no-break one) so that tests can type the text they expect.
    return f"{units:,}".replace(",", " ")


def long_date(day: date) -> str:
    """`15 décembre 2026`, `1er mars 2027`."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def paris_datetime(timestamp: int) -> datetime:
    """Naive local time in Paris for a unix timestamp.

    The EU summer-time rule is spelled out so that no time-zone database is needed (slim
    containers often lack tzdata).
    """
    utc = datetime.fromtimestamp(timestamp, timezone.utc)
    summer = _last_sunday_1am_utc(utc.year, 3) <= utc < _last_sunday_1am_utc(utc.year, 10)
    return (utc + timedelta(hours=2 if summer else 1)).replace(tzinfo=None)


def _last_sunday_1am_utc(year: int, month: int) -> datetime:
    last_day = date(year, month, 31)  # only used for March and October, both 31 days long
    last_sunday = last_day - timedelta(days=(last_day.weekday() - 6) % 7)
    return datetime(year, month, last_sunday.day, 1, tzinfo=timezone.utc)
