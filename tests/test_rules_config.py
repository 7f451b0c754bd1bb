"""Rules and thresholds from the TOML config, the policy table, and the score."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from inboxrel.config import load_settings
from inboxrel.errors import ConfigError
from inboxrel.rules.cadence import Cadence
from inboxrel.rules.facts import Evidence, PersonFacts
from inboxrel.rules.policy import BUILTIN, DEFAULT_POLICY, build_policy
from inboxrel.rules.scoring import score
from inboxrel.rules.thresholds import DEFAULTS, build_thresholds

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def facts(**kw) -> PersonFacts:
    """Hand-made facts; the mail in them is one-to-one unless ``personal_*`` say otherwise."""
    for key in [k for k in kw if k.startswith(("sent_", "received_"))]:
        kw.setdefault(f"personal_{key}", kw[key])
    p = PersonFacts(now=NOW, person_id=1, name="Carol", email="carol@client.example", **kw)
    p._cadence = Cadence(60, 90, "default")
    return p


def settings(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, "sqlite:///:memory:")


def test_default_policy_is_the_table():
    policy = build_policy()
    assert policy.names == list(DEFAULT_POLICY)
    assert set(DEFAULT_POLICY) == set(BUILTIN)
    assert [r["action"] for r in policy.table()] == ["suppress"] * 5 + ["suggest"] * 3 + ["boost"] * 2
    assert policy.th.heavy_min_messages == 8 and policy.th.default_cadence_days == 60


def test_thresholds_from_config(tmp_path):
    s = settings(tmp_path, '[thresholds]\nheavy_min_messages = 12\ndefault_cadence_days = "6w"\ncooling_ratio = 0.25\n')
    th = build_policy(s).th
    assert (th.heavy_min_messages, th.default_cadence_days, th.cooling_ratio) == (12, 42, 0.25)


@pytest.mark.parametrize("text,message", [
    ("[thresholds]\nheavy_min = 3\n", "[thresholds]: unknown key 'heavy_min'"),
    ("[thresholds]\nheavy_min_messages = \"many\"\n", "heavy_min_messages must be a number, not 'many'"),
    ("[thresholds]\nheavy_min_messages = 2.5\n", "heavy_min_messages must be a whole number, not 2.5"),
    ("[thresholds]\ndefault_cadence_days = \"soon\"\n", "default_cadence_days must be a number of days or a duration"),
    ("[thresholds]\noverdue_factor = 0.5\n", "overdue_factor must be at least 1"),
    ("[thresholds]\ncooling_ratio = -1\n", "cooling_ratio must not be negative"),
    ("[thresholds]\nweight_load = 0\nweight_overdue = 0\nweight_reciprocity = 0\nweight_length = 0\n",
     "at least one score weight"),
])
def test_bad_thresholds_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        build_policy(settings(tmp_path, text))
    assert message in str(err.value)
    assert str(tmp_path / "config.toml") in str(err.value)


def test_thresholds_cover_every_default():
    th = build_thresholds({})
    assert set(vars(th)) == set(DEFAULTS)


USER = """
[[rules]]
name = "quiet-client"
description = "A client I write to a lot who has gone quiet"
when = ["sent_365d >= 20", "received_30d == 0", "domain == 'client.example'"]
priority = 8
reason = "{sent_365d} emails to them this year, nothing back in 30 days"

[[rules]]
name = "no-interns"
when = "circle == \\"interns\\""
action = "suppress"
"""


def test_user_rules_join_the_policy_and_fire(tmp_path):
    policy = build_policy(settings(tmp_path, USER))
    assert policy.names == list(DEFAULT_POLICY[:-1]) + ["quiet-client", "no-interns", "unanswered-request"]
    rule = next(r for r in policy.rules if r.name == "quiet-client")
    p = facts(sent_365d=25, received_30d=0)
    v = rule.check(p, policy.th)
    assert v.fired and v.action == "suggest" and v.priority == 8
    assert v.reason == "25 emails to them this year, nothing back in 30 days"
    assert v.numbers == {"sent_365d": 25, "received_30d": 0, "domain": "client.example"}
    assert policy.evaluate(p).suggested
    v = rule.check(facts(sent_365d=25, received_30d=2), policy.th)
    assert not v.fired and v.reason == "received_30d == 0 does not hold (received_30d is 2)"
    intern = facts(sent_365d=25, circles=["interns"])
    d = policy.evaluate(intern)
    assert not d.suggested and d.suppressed_by.rule == "no-interns"


def test_user_rule_never_and_days(tmp_path):
    s = settings(tmp_path, '[[rules]]\nname = "never-talked"\nwhen = ["days_since_conversation == never", '
                           '"total_90d >= 5"]\nreason = "never talked; {total_90d} emails; last talk {last_conversation_date}"\n')
    rule = build_policy(s).rules[-2]
    v = rule.check(facts(sent_90d=3, received_90d=3), None)
    assert v.fired and v.reason == "never talked; 6 emails; last talk -"
    talked = Evidence(1, "past", "phone", NOW - timedelta(days=3), NOW - timedelta(days=3), "manual")
    assert not rule.check(facts(sent_90d=3, received_90d=3, last_conversation=talked), None).fired


@pytest.mark.parametrize("text,message", [
    ('[[rules]]\nname = "x"\nwhen = ["sent_90d >= 1"]\nwhn = 1\n', "[[rules]] #1: unknown key 'whn'"),
    ('[[rules]]\nname = "Bad Name"\nwhen = ["sent_90d >= 1"]\n', "name must be lower-case letters"),
    ('[[rules]]\nname = "x"\n', "[[rules]] 'x': when must be a list of conditions"),
    ('[[rules]]\nname = "x"\nwhen = ["sent90 >= 1"]\n', "unknown field 'sent90' in condition 'sent90 >= 1'"),
    ('[[rules]]\nname = "x"\nwhen = ["sent_90d about 1"]\n', "cannot read condition 'sent_90d about 1'"),
    ('[[rules]]\nname = "x"\nwhen = ["domain >= 3"]\n', "domain is text"),
    ('[[rules]]\nname = "x"\nwhen = ["sent_90d >= \'a\'"]\n', "sent_90d is a number"),
    ('[[rules]]\nname = "x"\nwhen = ["sent_90d >= 1"]\naction = "shout"\n', "action must be one of suggest"),
    ('[[rules]]\nname = "x"\nwhen = ["sent_90d >= 1"]\npriority = 11\n', "priority must be a whole number from 1 to 10"),
    ('[[rules]]\nname = "x"\nwhen = ["sent_90d >= 1"]\nreason = "{sent}/{nope}"\n', "reason refers to unknown field {nope}"),
    ('[[rules]]\nname = "cooling"\nwhen = ["sent_90d >= 1"]\n', "has the name of a built-in rule"),
    ('[[rules]]\nname = "x"\nwhen = ["sent_90d >= 1"]\n[[rules]]\nname = "x"\nwhen = ["sent_90d >= 2"]\n',
     "'x' is defined twice"),
    ('policy = ["automated", "heavy-email-overdue-cal"]\n', "policy names unknown rule 'heavy-email-overdue-cal'"),
    ('policy = ["automated", "automated"]\n', "policy lists rule 'automated' twice"),
    ('policy = "automated"\n', "policy must be a list of rule names"),
])
def test_bad_rules_and_policy_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        build_policy(settings(tmp_path, text))
    assert message in str(err.value)


def test_policy_from_config_changes_order_and_drops_rules(tmp_path):
    policy = build_policy(settings(tmp_path, 'policy = ["automated", "cooling"]\n'))
    assert policy.names == ["automated", "cooling"]
    heavy = facts(sent_90d=20, received_90d=20, first_at=NOW - timedelta(days=400))
    assert not policy.evaluate(heavy).suggested  # heavy-email-overdue-call is not in force


def test_evaluate_stops_at_a_suppressing_rule_unless_asked_for_every_verdict():
    policy = build_policy()
    p = facts(sent_90d=20, received_90d=20, automated="newsletter", first_at=NOW - timedelta(days=400))
    d = policy.evaluate(p)
    assert not d.suggested and [v.rule for v in d.verdicts] == ["automated"]
    d = policy.evaluate(p, every=True)
    assert [v.rule for v in d.verdicts] == list(DEFAULT_POLICY)
    assert [v.rule for v in d.fired] == ["automated", "heavy-email-overdue-call"]


def test_score_weighs_load_overdue_reciprocity_length():
    th = build_thresholds()
    policy = build_policy()
    base = dict(sent_90d=20, received_90d=20, first_at=NOW - timedelta(days=730))
    p = facts(**base)
    s = score(p, policy.evaluate(p).fired, th)
    # load log1p(40)/log1p(60), overdue capped at 1, reciprocity 1, length 1; one priority-10 rule: x 10/11
    load = math.log1p(40) / math.log1p(60)
    assert s.parts["load"][0] == pytest.approx(load)
    assert (s.parts["overdue"][0], s.parts["reciprocity"][0], s.parts["length"][0]) == (1.0, 1.0, 1.0)
    assert s.value == round(100 * (load * 0.35 + 0.30 + 0.20 + 0.15) * 10 / 11, 1)
    assert "rules fired: heavy-email-overdue-call 10" in s.explain()
    one_sided = facts(sent_90d=36, received_90d=4, first_at=NOW - timedelta(days=730))
    assert score(one_sided, policy.evaluate(one_sided).fired, th).value < s.value
    newer = facts(sent_90d=20, received_90d=20, first_at=NOW - timedelta(days=100))
    assert score(newer, policy.evaluate(newer).fired, th).value < s.value
    asked = facts(**base, requests=[Evidence(1, "request", "phone", None, NOW - timedelta(days=2), "message",
                                             direction="to_me")])
    boosted = score(asked, policy.evaluate(asked).fired, th)
    assert boosted.value > s.value and boosted.value <= 100
    assert boosted.rules == [("heavy-email-overdue-call", 10), ("unanswered-request", 5)]


def test_rules_command_shows_the_policy_in_force(tmp_path):
    import json

    from click.testing import CliRunner

    from inboxrel.cli import cli

    config = tmp_path / "config.toml"
    config.write_text(USER)
    out = CliRunner().invoke(cli, ["--config", str(config), "rules", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [r["name"] for r in rows][-3:] == ["quiet-client", "no-interns", "unanswered-request"]
    assert rows[-3] == {"order": 10, "name": "quiet-client", "action": "suggest", "priority": 8, "builtin": False,
                        "description": "A client I write to a lot who has gone quiet"}
    text = CliRunner().invoke(cli, ["--config", str(config), "rules"]).output
    assert "quiet-client (yours)" in text and "heavy-email-overdue-call" in text
    config.write_text('[[rules]]\nname = "x"\nwhen = ["sent_90d >= 1"]\nactoin = "suggest"\n')
    bad = CliRunner().invoke(cli, ["--config", str(config), "rules"])
    assert bad.exit_code == 2 and "unknown key 'actoin'" in bad.output
