"""Connecting on the graph with the mouse: drag an answer's dot onto a step to connect it,
drag an arrow's end onto another step to reconnect it, drop an answer into empty space to
create the next step there."""

from __future__ import annotations

from tests.browser.conftest import app_context
from tests.browser.test_editor_build_publish import node, sign_in
from tests.conftest import Tenant, wait_until
from tests.trees_api.test_trees_api import small_tree


def center(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box, "not on screen"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def settled(locator) -> None:
    """Wait until a step stops moving. React Flow fits the view to the steps once it has
    measured them, a moment after they first show (longer on a busy machine): a drag aimed
    from coordinates read before that lands where nothing is."""
    last = None

    def still() -> bool:
        nonlocal last
        box = locator.bounding_box()
        same = box is not None and box == last
        last = box
        return same

    wait_until(still, interval=0.25, message="the graph to stop moving")


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(start[0] + (end[0] - start[0]) * i / 10, start[1] + (end[1] - start[1]) * i / 10)
    page.mouse.up()


def test_connect_reconnect_and_create_by_dragging(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree = small_tree()
    tree["nodes"]["scope"]["next"]["no"] = None
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=tree).json()["id"]

    def draft() -> dict:
        return http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()

    ctx = app_context(browser, {"width": 1360, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "escalate").wait_for()
        settled(node(page, "escalate"))

        # Connect: the question's "no" dot onto the escalation.
        drag(
            page,
            center(page.locator("[data-node-id=scope] .react-flow__handle[data-handleid=no]")),
            center(node(page, "escalate")),
        )
        wait_until(
            lambda: draft()["nodes"]["scope"]["next"]["no"] == "escalate", message="the connection saved"
        )

        # Reconnect: the head of the "done" arrow moves from the resolved step to the escalation.
        edge = page.locator("[data-testid='rf__edge-restart|done']")
        edge.wait_for()
        drag(page, center(edge.locator(".react-flow__edgeupdater-target")), center(node(page, "escalate")))
        wait_until(
            lambda: draft()["nodes"]["restart"]["next"]["done"] == "escalate",
            message="the reconnection saved",
        )

        # Create: drop the action's "skipped" dot into empty space and pick a type.
        start = center(page.locator("[data-node-id=restart] .react-flow__handle[data-handleid=skipped]"))
        drag(page, start, (start[0] + 60, start[1] + 230))
        page.click("[role=menu][aria-label='Create the next step'] >> text=Question")
        node(page, "question").wait_for()
        wait_until(
            lambda: draft()["nodes"]["restart"]["next"].get("skipped") == "question",
            message="the new step saved",
        )
        assert draft()["nodes"]["question"]["type"] == "question"
    finally:
        ctx.close()
