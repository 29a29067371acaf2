"""Work done in a transaction of its own, under a database lock: the add-on's one way of asking
Alma for something that must happen once (a payment, a refund, an invoice's link)."""

from contextlib import contextmanager


@contextmanager
def own_transaction_locked(env, key, su=False):
    """Run the block in a new transaction holding a lock on `key` in the database (every
    worker and server waits on it); yield that transaction's environment.

    What the caller wrote is flushed first, so the block reads it. The lock is taken before the
    block's snapshot, so the block sees what the previous holder committed: a double click, a
    retry or a second server waits, then finds what the first one made. The block may commit
    (before asking Alma, once Alma answered); what it leaves is committed, or rolled back on an
    error. Afterwards, error or not, the caller's records are read again: another transaction
    changed them.

    :param str key: what the work is for (e.g. ``pos:<line uuid>``), never the click
    :param bool su: whether the block runs as superuser (the callers checked the user's rights)
    """
    env.flush_all()
    try:
        with env.registry.cursor() as cr:
            cr.execute("SELECT pg_advisory_lock(hashtext(%s))", [f'alma:{key}'])
            try:
                cr.commit()  # pylint: disable=invalid-commit
                yield env(cr=cr, su=su or env.su)
                cr.commit()  # pylint: disable=invalid-commit
            except Exception:
                cr.rollback()
                raise
            finally:
                cr.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f'alma:{key}'])
                cr.commit()  # pylint: disable=invalid-commit
    finally:
        env.invalidate_all()  # Also for a caller that catches the block's error and reads on.
