"""validate_tree: one case per rule, each pinning exactly which problems an author sees."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from api.trees.validation import CODES, LIMITS, Problem, validate_tree

from .factories import chain_tree, valid_tree

Tree = dict[str, Any]


def found(doc: Any) -> set[tuple[str | None, str]]:
    return {(p.node_id, p.code) for p in validate_tree(doc)}


def mutated(change: Callable[[Tree], Any]) -> Tree:
    tree = valid_tree()
    change(tree)
    return tree


def nodes(tree: Tree) -> dict[str, Any]:
    return tree["nodes"]


def _rename_node(tree: Tree, old: str, new: str) -> None:
    tree["nodes"] = {(new if k == old else k): v for k, v in tree["nodes"].items()}
    for node in tree["nodes"].values():
        nxt = node.get("next")
        if isinstance(nxt, dict):
            for answer, target in nxt.items():
                if target == old:
                    nxt[answer] = new
        elif nxt == old:
            node["next"] = new
        for option in node.get("options", []):
            if option["next"] == old:
                option["next"] = new


def _loop_without_exit(tree: Tree) -> None:
    # "ports" and "retry" send each other back and forth; neither reaches a resolution.
    nodes(tree)["ports"]["next"] = {"done": "retry", "failed": "retry"}
    nodes(tree)["retry"] = {
        "type": "action",
        "title": "Try again",
        "body": "Services > Restart",
        "next": {"done": "ports", "failed": "ports"},
        "log": {"done": "Tried again.", "failed": "Retry failed."},
    }


def _options(count: int) -> Callable[[Tree], None]:
    def change(tree: Tree) -> None:
        targets = ["ports", "escalate"] + ["fixed"] * count
        nodes(tree)["event"]["options"] = [
            {"id": f"o{i}", "label": f"Option {i}", "next": targets[i], "log": f"Chose {i}."}
            for i in range(count)
        ]

    return change


def _set(path: str, value: Any) -> Callable[[Tree], None]:
    """Set `a.b.c` (integers index lists) in the tree; `value` DELETE removes the key."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]

    def change(tree: Tree) -> None:
        target: Any = tree
        for key in keys[:-1]:
            target = target[key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value

    return change


DELETE = object()

# (id, change, exactly the problems expected as {(node_id, code)})
CASES: list[tuple[str, Callable[[Tree], Any], set[tuple[str | None, str]]]] = [
    ("invalid_field_tree", _set("title", 5), {(None, "invalid_field")}),
    ("invalid_field_node", _set("nodes.ports.next.failed", 7), {("ports", "invalid_field")}),
    ("unknown_field", _set("nodes.scope.nxt", "vda"), {("scope", "unknown_field")}),
    ("unknown_answer_key", _set("nodes.scope.next.maybe", "vda"), {("scope", "unknown_field")}),
    ("unknown_node_type", _set("nodes.ports.type", "puzzle"), {("ports", "unknown_node_type")}),
    ("missing_node_type", _set("nodes.ports.type", DELETE), {("ports", "unknown_node_type")}),
    # the rest of the tree is still read through the broken node: one typo, one problem
    ("node_type_typo", _set("nodes.vda.type", "inptu"), {("vda", "unknown_node_type")}),
    ("invalid_tree_id", _set("_id", "Citrix VDA"), {(None, "invalid_tree_id")}),
    ("invalid_outcome", _set("nodes.fixed.outcome", "fixed"), {("fixed", "invalid_outcome")}),
    ("missing_outcome", _set("nodes.fixed.outcome", DELETE), {("fixed", "invalid_outcome")}),
    ("missing_start", _set("start", DELETE), {(None, "missing_start")}),
    ("blank_start", _set("start", "  "), {(None, "missing_start")}),
    ("unknown_start", _set("start", "scoping"), {(None, "unknown_start")}),
    (
        "invalid_node_id",
        lambda t: _rename_node(t, "ports", "Open Ports"),
        {("Open Ports", "invalid_node_id")},
    ),
    ("empty_title_node", _set("nodes.ports.title", " "), {("ports", "empty_title")}),
    ("missing_title_node", _set("nodes.ports.title", DELETE), {("ports", "empty_title")}),
    ("empty_title_tree", _set("title", ""), {(None, "empty_title")}),
    ("empty_label_option", _set("nodes.event.options.1.label", ""), {("event", "empty_label")}),
    ("empty_label_link", _set("nodes.scope.links.0.title", ""), {("scope", "empty_label")}),
    ("empty_log_question", _set("nodes.scope.log.no", ""), {("scope", "empty_log")}),
    ("empty_log_action", _set("nodes.ports.log.failed", DELETE), {("ports", "empty_log")}),
    ("empty_log_skipped_offered", _set("nodes.service.log.skipped", "  "), {("service", "empty_log")}),
    ("empty_log_input", _set("nodes.vda.log", ""), {("vda", "empty_log")}),
    ("empty_log_option", _set("nodes.event.options.0.log", ""), {("event", "empty_log")}),
    ("missing_next_question", _set("nodes.scope.next.no", DELETE), {("scope", "missing_next")}),
    ("missing_next_action_failed", _set("nodes.ports.next.failed", None), {("ports", "missing_next")}),
    (
        "missing_next_input",
        _set("nodes.vda.next", DELETE),
        # Real consequences, listed too: the yes branch is stuck from vda on, service was only
        # reached through vda, and event no longer has a path on which vda_name is asked.
        {
            ("vda", "missing_next"),
            ("vda", "no_resolution_reachable"),
            ("service", "unreachable"),
            ("event", "unknown_variable"),
        },
    ),
    ("missing_next_option", _set("nodes.event.options.1.next", ""), {("event", "missing_next")}),
    ("dangling_next", _set("nodes.ports.next.failed", "escalation"), {("ports", "dangling_next")}),
    (
        "unreachable",
        _set(
            "nodes.orphan",
            {"type": "resolution", "outcome": "resolved", "title": "Orphan", "summary": "Never seen."},
        ),
        {("orphan", "unreachable")},
    ),
    ("no_resolution_reachable", _loop_without_exit, {("ports", "no_resolution_reachable")}),
    ("choice_too_few_options", _options(1), {("event", "choice_option_count")}),
    ("choice_too_many_options", _options(13), {("event", "choice_option_count")}),
    ("empty_option_id", _set("nodes.event.options.1.id", ""), {("event", "empty_option_id")}),
    ("duplicate_option_id", _set("nodes.event.options.1.id", "1002"), {("event", "duplicate_option_id")}),
    (
        "invalid_variable_name",
        _set("nodes.vda.variable", "vda name"),
        # the name is unusable, so the placeholders that use it are unknown too
        {
            ("vda", "invalid_variable_name"),
            ("vda", "unknown_variable"),
            ("service", "unknown_variable"),
            ("event", "unknown_variable"),
        },
    ),
    (
        "invalid_save_to_client",
        _set("nodes.vda.save_to_client", "vda-list"),
        {("vda", "invalid_variable_name")},
    ),
    (
        "unknown_variable",
        _set("nodes.ports.log.done", "Opened TCP 80 on {{input.vda}}."),
        {("ports", "unknown_variable")},
    ),
    (
        "variable_only_downstream",
        _set("nodes.scope.body", "Check {{input.vda_name}}."),
        {("scope", "unknown_variable")},
    ),
    (
        "input_title_uses_own_variable",
        _set("nodes.vda.title", "Which VDA ({{input.vda_name}})?"),
        {("vda", "unknown_variable")},
    ),
    (
        "malformed_placeholder_name",
        _set("nodes.ports.body", "On {{input.vda-name}}."),
        {("ports", "malformed_placeholder")},
    ),
    (
        "malformed_placeholder_namespace",
        _set("nodes.ports.body", "On {{ vda_name }}."),
        {("ports", "malformed_placeholder")},
    ),
    (
        "malformed_placeholder_unclosed",
        _set("nodes.ports.log.done", "Opened {{input.vda_name."),
        {("ports", "malformed_placeholder")},
    ),
    (
        "text_too_long_title",
        _set("nodes.ports.title", "x" * (LIMITS.title + 1)),
        {("ports", "text_too_long")},
    ),
    ("text_too_long_body", _set("nodes.ports.body", "x" * (LIMITS.body + 1)), {("ports", "text_too_long")}),
    ("text_too_long_help", _set("nodes.ports.help", "x" * (LIMITS.help + 1)), {("ports", "text_too_long")}),
    ("text_too_long_log", _set("nodes.ports.log.done", "x" * (LIMITS.log + 1)), {("ports", "text_too_long")}),
    (
        "link_http",
        _set("nodes.scope.links.0.url", "http://docs.example.org/x"),
        {("scope", "link_not_https")},
    ),
    ("link_script", _set("nodes.scope.links.0.url", "javascript:alert(1)"), {("scope", "link_not_https")}),
    ("link_no_host", _set("nodes.scope.links.0.url", "https://"), {("scope", "link_not_https")}),
    ("link_empty", _set("nodes.scope.links.0.url", ""), {("scope", "link_not_https")}),
    ("empty_command", _set("nodes.service.commands.0.text", " "), {("service", "empty_command")}),
    ("missing_summary", _set("nodes.fixed.summary", ""), {("fixed", "missing_summary")}),
    ("missing_handover", _set("nodes.escalate.handover", None), {("escalate", "missing_handover")}),
    # freshness: review settings and the product versions a tree applies to
    ("review_by_not_a_date", _set("review_by", "2027-02-30"), {(None, "invalid_review_date")}),
    ("review_by_other_form", _set("review_by", "30/06/2027"), {(None, "invalid_review_date")}),
    ("review_by_wrong_type", _set("review_by", 20270630), {(None, "invalid_field")}),
    ("review_interval_zero", _set("review_every_days", 0), {(None, "invalid_review_interval")}),
    ("review_interval_text", _set("review_every_days", "90"), {(None, "invalid_field")}),
    (
        "review_date_and_interval",
        lambda t: (_set("review_by", "2027-06-30")(t), _set("review_every_days", 90)(t)),
        {(None, "review_date_and_interval")},
    ),
    ("applies_to_empty_entry", _set("applies_to", ["SonicOS 7.x", " "]), {(None, "invalid_applies_to")}),
    (
        "applies_to_repeated",
        _set("applies_to", ["SonicOS 7.x", "sonicos 7.X "]),
        {(None, "invalid_applies_to")},
    ),
    ("applies_to_too_many", _set("applies_to", [f"v{i}" for i in range(21)]), {(None, "invalid_applies_to")}),
    ("applies_to_too_long", _set("applies_to", ["x" * 81]), {(None, "text_too_long")}),
    ("applies_to_not_a_list", _set("applies_to", "SonicOS 7.x"), {(None, "invalid_field")}),
    (
        "script_ref_valid_form",
        _set(
            "nodes.service.script", {"id": "script:restart", "parameters": {"Computer": "{{input.vda_name}}"}}
        ),
        set(),
    ),
    (
        "script_ref_bad_id",
        _set("nodes.service.script", {"id": "Restart it"}),
        {("service", "invalid_script_ref")},
    ),
    (
        "script_ref_bad_parameter_name",
        _set("nodes.service.script", {"id": "script:restart", "parameters": {"$Computer": "x"}}),
        {("service", "invalid_script_ref")},
    ),
    (
        "script_ref_malformed_value",
        _set("nodes.service.script", {"id": "script:restart", "parameters": {"Computer": "{{input.vda"}}),
        {("service", "malformed_placeholder")},
    ),
    (
        "script_ref_unknown_variable",
        _set("nodes.ports.script", {"id": "script:restart", "parameters": {"Computer": "{{input.nope}}"}}),
        {("ports", "unknown_variable")},
    ),
    (
        "script_ref_value_not_text",
        _set("nodes.service.script", {"id": "script:restart", "parameters": {"Port": 389}}),
        {("service", "invalid_field")},
    ),
    (
        "script_on_a_question",
        _set("nodes.scope.script", {"id": "script:restart"}),
        {("scope", "unknown_field")},
    ),
    ("reviewed_at_not_a_date", _set("reviewed_at", "2026-02-30"), {(None, "invalid_review_date")}),
    ("reviewed_at_not_a_string", _set("reviewed_at", 20261204), {(None, "invalid_field")}),
    (
        "source_not_https",
        _set("sources", [{"title": "Vendor KB", "url": "http://kb.vendor.test/123"}]),
        {(None, "link_not_https")},
    ),
    (
        "source_without_title",
        _set("sources", [{"title": " ", "url": "https://kb.vendor.test/123"}]),
        {(None, "empty_label")},
    ),
    (
        "source_unknown_field",
        _set("sources", [{"title": "KB", "url": "https://kb.vendor.test/1", "x": 1}]),
        {(None, "unknown_field")},
    ),
    (
        "sources_too_many",
        _set("sources", [{"title": f"KB {i}", "url": f"https://kb.vendor.test/{i}"} for i in range(51)]),
        {(None, "text_too_long")},
    ),
    ("verification_not_a_string", _set("nodes.fixed.verification", 5), {("fixed", "invalid_field")}),
    ("verification_too_long", _set("nodes.fixed.verification", "x" * 5001), {("fixed", "text_too_long")}),
]


def test_the_base_tree_is_valid() -> None:
    assert validate_tree(valid_tree()) == []


def test_review_settings_and_applies_to_are_valid_when_well_formed() -> None:
    for fields in (
        {"review_by": "2028-02-29", "applies_to": ["Citrix VDA 2203 LTSR", "SonicOS 7.x"]},
        {"review_every_days": 180},
        {"review_by": None, "review_every_days": None, "applies_to": []},
    ):
        assert validate_tree({**valid_tree(), **fields}) == [], fields


@pytest.mark.parametrize(
    "change, expected", [(c, e) for _, c, e in CASES], ids=[name for name, _, _ in CASES]
)
def test_rule(change: Callable[[Tree], Any], expected: set) -> None:
    assert found(mutated(change)) == expected


def test_every_code_has_a_case() -> None:
    covered = {code for _, _, expected in CASES for _, code in expected}
    covered |= {"not_an_object", "too_many_nodes"}  # tested below
    assert covered == set(CODES)


def test_not_an_object() -> None:
    for doc in (None, [], "tree", 3):
        problems = validate_tree(doc)
        assert [(p.node_id, p.code) for p in problems] == [(None, "not_an_object")]


def test_too_many_nodes() -> None:
    assert found(chain_tree(LIMITS.nodes)) == set()
    assert found(chain_tree(LIMITS.nodes + 1)) == {(None, "too_many_nodes")}


def test_limits_are_inclusive() -> None:
    tree = mutated(_set("nodes.ports.title", "x" * LIMITS.title))
    assert validate_tree(tree) == []


def test_skipped_is_optional_on_actions() -> None:
    tree = valid_tree()
    del nodes(tree)["service"]["next"]["skipped"]
    del nodes(tree)["service"]["log"]["skipped"]
    assert validate_tree(tree) == []


def test_question_needs_both_answers() -> None:
    tree = mutated(_set("nodes.scope.next", {"yes": "vda"}))
    problems = [p for p in validate_tree(tree) if p.code == "missing_next"]
    assert problems[0].message == (
        "The answer No does not lead to any step yet. Choose the next step "
        'under "No leads to", or drag from its dot on the graph onto a step.'
    )
    assert len(problems) == 1


def test_loop_with_an_exit_is_allowed() -> None:
    # "reboot and check again": a cycle is fine while a resolution stays reachable.
    tree = valid_tree()
    nodes(tree)["ports"]["next"] = {"done": "recheck", "failed": "escalate"}
    nodes(tree)["recheck"] = {
        "type": "question",
        "title": "Is the VDA registered now?",
        "next": {"yes": "fixed", "no": "ports"},
        "log": {"yes": "The VDA registered.", "no": "Still unregistered; went round again."},
    }
    assert validate_tree(tree) == []


def test_stuck_region_is_reported_once_at_its_entry() -> None:
    tree = valid_tree()
    _loop_without_exit(tree)
    stuck = [p for p in validate_tree(tree) if p.code == "no_resolution_reachable"]
    assert [p.node_id for p in stuck] == ["ports"]


def test_whole_tree_stuck_is_reported_at_the_start() -> None:
    tree = valid_tree()
    for node in nodes(tree).values():
        if node["type"] == "resolution":
            node["type"], node["next"], node["log"] = "input", "scope", "Noted."
            node["variable"] = "x"
            for key in ("outcome", "summary", "root_cause", "handover"):
                node.pop(key, None)
    stuck = [p.node_id for p in validate_tree(tree) if p.code == "no_resolution_reachable"]
    assert stuck == ["scope"]


def test_variable_asked_on_one_path_is_enough() -> None:
    # "event" is reached both via vda (asks vda_name) and directly from scope (does not).
    tree = valid_tree()
    assert "{{input.vda_name}}" in nodes(tree)["event"]["options"][0]["log"]
    assert validate_tree(tree) == []


def test_variable_inside_a_loop_counts_on_the_way_round() -> None:
    tree = valid_tree()
    # ask for the VDA inside a retry loop, and use the value at the loop's head
    nodes(tree)["ports"]["next"] = {"done": "fixed", "failed": "which"}
    nodes(tree)["ports"]["log"]["failed"] = "Could not open TCP 80 on {{input.server}}."
    nodes(tree)["which"] = {
        "type": "input",
        "title": "Which server?",
        "variable": "server",
        "next": "ports",
        "log": "Retrying on {{input.server}}.",
    }
    assert validate_tree(tree) == []


def test_client_placeholders_are_always_allowed() -> None:
    tree = mutated(_set("nodes.ports.body", "{{client.name}} uses {{ client.firewall_model }}."))
    assert validate_tree(tree) == []


def test_unknown_variable_message_names_the_fix() -> None:
    tree = mutated(_set("nodes.ports.log.done", "Opened TCP 80 on {{input.vda}}."))
    [problem] = validate_tree(tree)
    assert "{{input.vda}}" in problem.message and "vda_name" in problem.message


def test_all_problems_are_listed_at_once() -> None:
    tree = valid_tree()
    changes = [
        _set("title", ""),
        _set("nodes.scope.log.no", ""),
        _set("nodes.ports.next.failed", "escalation"),
        _options(1),
        _set("nodes.scope.links.0.url", "http://x.example.org"),
        _set("nodes.escalate.handover", ""),
        _set("nodes.fixed.summary", ""),
        _set("nodes.service.commands.0.text", ""),
        _set("nodes.vda.variable", "vda_name"),
        _set("nodes.orphan", {"type": "question", "title": "?"}),
    ]
    for change in changes:
        change(tree)
    codes = {p.code for p in validate_tree(tree)}
    assert {
        "empty_title",
        "empty_log",
        "dangling_next",
        "choice_option_count",
        "link_not_https",
        "missing_handover",
        "missing_summary",
        "empty_command",
        "unreachable",
        "missing_next",
    } <= codes


def test_problems_are_grouped_tree_first_then_by_node_order() -> None:
    tree = mutated(_set("nodes.fixed.summary", ""))
    _set("title", "")(tree)
    _set("nodes.scope.log.no", "")(tree)
    assert [p.node_id for p in validate_tree(tree)] == [None, "scope", "fixed"]


def test_messages_say_what_and_how() -> None:
    tree = mutated(_set("nodes.ports.next.failed", "escalation"))
    [problem] = validate_tree(tree)
    assert isinstance(problem, Problem)
    assert (
        '"escalation"' in problem.message
        and 'Choose an existing step under "Failed leads to"' in problem.message
    )


def test_editor_messages_say_what_to_do_without_naming_json_fields() -> None:
    """Regression (issue 14): the messages an author sees in the editor named fields
    (`next`, `log.yes`, `start`) instead of the boxes to fill in."""
    tree = valid_tree()
    tree["start"] = None
    scope = nodes(tree)["scope"]
    scope["next"]["no"] = None
    scope["log"]["yes"] = ""
    scope["body"] = "Check {{input.nowhere}} first."
    nodes(tree)["vda"]["variable"] = ""
    resolution = next(n for n in nodes(tree).values() if n["type"] == "resolution")
    resolution.update(outcome=None, summary="")
    problems = validate_tree(tree)
    by_code = {p.code: p.message for p in problems}
    assert by_code["missing_start"] == (
        "The tree has no first step. Choose the step an engineer should see "
        'first under "First step" in the tree settings.'
    )
    assert by_code["missing_next"].startswith("The answer No does not lead to any step yet.")
    assert by_code["empty_log"].startswith("The log sentence of Yes is empty. Write what the engineer did")
    assert by_code["invalid_variable_name"].startswith('The input does not name its value. Under "Variable"')
    assert by_code["invalid_outcome"].endswith('Choose Resolved, Escalated or Unresolved under "Outcome".')
    assert by_code["missing_summary"].startswith('The resolution has no summary. Under "Summary"')
    for p in problems:
        assert not re.search(
            r"`(next|log|start|outcome|summary|handover|variable|save_to_client)\b", p.message
        ), p
        assert "log." not in p.message and "next`" not in p.message, p


def test_unknown_field_message_lists_allowed_fields() -> None:
    [problem] = validate_tree(mutated(_set("nodes.scope.next.maybe", "vda")))
    assert "maybe" in problem.message and "yes, no" in problem.message


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"nodes": []},
        {"nodes": {"a": 5, "b": None, "c": [], "d": "x"}, "start": "a"},
        {"start": 7, "nodes": {"a": {"type": "question", "next": [], "log": "x"}}},
        {"start": "a", "nodes": {"a": {"type": "choice", "options": {"id": "x"}}}},
        {"start": "a", "nodes": {"a": {"type": "choice", "options": [1, None, {"next": 5}]}}},
        {
            "start": "a",
            "nodes": {
                "a": {
                    "type": "action",
                    "links": ["https://x"],
                    "commands": "ls",
                    "next": {"done": ["a"]},
                    "title": {"t": 1},
                }
            },
        },
        {
            "start": "a",
            "nodes": {"a": {"type": "input", "variable": 5, "save_to_client": [], "next": 3, "log": None}},
        },
        {"start": "a", "nodes": {"a": {"type": "resolution", "outcome": ["x"], "summary": 1}}},
        {"title": None, "tags": "x", "_id": 5, "schema_version": "1", "type": "sheet"},
    ],
    ids=lambda doc: str(doc)[:40],
)
def test_garbage_gives_problems_not_exceptions(doc: Any) -> None:
    problems = validate_tree(doc)
    assert problems, "garbage must not pass as a valid tree"
    assert all(p.code in CODES for p in problems)


def test_two_thousand_nodes_validate_quickly() -> None:
    tree = chain_tree(LIMITS.nodes)
    # placeholders everywhere exercise the variable pass too
    tree["nodes"]["n0"] = {
        "type": "input",
        "title": "Which host?",
        "variable": "host",
        "next": "n1",
        "log": "Host {{input.host}}.",
    }
    for i in range(1, LIMITS.nodes - 1):
        tree["nodes"][f"n{i}"]["log"]["done"] = f"Did step {i} on {{{{input.host}}}}."
    assert validate_tree(tree) == []
    # CPU time, best of several runs: other processes on a busy test machine must not fail
    # this, while a slower (e.g. quadratic) validator still does.
    best = min(_cpu_time(tree) for _ in range(10))
    assert best < 0.05, f"validating 2,000 nodes took {best * 1000:.1f} ms of CPU"


def _cpu_time(tree: Tree) -> float:
    start = time.process_time()
    validate_tree(tree)
    return time.process_time() - start


def test_validation_result_shape() -> None:
    from api.trees.validation import validation_result

    assert validation_result(valid_tree()).model_dump() == {"valid": True, "problems": []}
    broken = validation_result(mutated(_set("nodes.fixed.summary", "")))
    assert broken.valid is False
    assert [p["code"] for p in broken.model_dump()["problems"]] == ["missing_summary"]
    assert set(broken.model_dump()["problems"][0]) == {"node_id", "code", "message"}
