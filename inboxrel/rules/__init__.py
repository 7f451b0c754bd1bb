"""The rules engine: one rule per module, the policy (which rules are in force, in what order) in policy.py.

A rule looks at one person's :class:`~inboxrel.rules.facts.PersonFacts` (mail volume, evidence of
conversations, feedback, cadence) and returns a :class:`~inboxrel.rules.base.Verdict`: whether it fired,
the numbers it compared, and a reason a person can read. Rules never read the clock: ``facts.now`` is
the time everything is counted from.
"""
