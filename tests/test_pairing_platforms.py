"""Introductions as each platform delivers them, against the fake Slack Web API and the fake
Teams connector: Slack one group DM with the pair and the bot, Teams 1:1 each with a link to
chat with the other, someone with no chat identity in the terminal."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.slack_api import open_slack_world, text_of
from tests.fakes.teams_connector import TANVIR_AAD
from tests.pairing_world import pairing_file, round_instant
from tests.teams_world import open_teams_world

BISHAL, NASRIN, RINA, DAWA, KARIM = "U0BISHAL01", "U0NASRIN01", "U0RINA0001", "U0DAWA0001", "U0KARIM001"
VANNA_AAD = "4e6a8c0d-1b3f-4d5e-9a7c-2f4b6d8e0a13"
HOSPITAL_GOAL = "Understand how a low-cost community hospital is run and financed"


async def test_slack_introduces_a_pair_in_one_group_dm(database_url: str, tmp_path: Path) -> None:
    async with open_slack_world(database_url) as world:
        from storage.importer import import_programme

        await import_programme(world.server.store, pairing_file(tmp_path))
        world.server.clock.now = round_instant(0)
        await world.server.tick(round_instant(0))
        await world.server.tick(round_instant(0))  # ticked twice: nothing twice

        opened = [c for c in world.fake.called("conversations.open") if "," in str(c.body.get("users"))]
        # One group DM for each pair all on Slack: Bishal and Nasrin (their shared goal), Priya
        # and Mitu; Sokha (on Teams, which is off here) and Karim are not both on Slack.
        assert sorted(sorted(str(c.body["users"]).split(",")) for c in opened) == [
            [BISHAL, NASRIN],
            ["U0MITU0001", "U0PRIYA001"],
        ]
        group = world.fake.mpim_of([BISHAL, NASRIN])
        posts = world.fake.posts_to(group)
        assert len(posts) == 1
        text = text_of(posts[0])
        # Why they were paired, in each one's language (Bishal's Nepali, Nasrin's English).
        assert HOSPITAL_GOAL in text and "You share the learning goal" in text
        assert "तपाईंहरूको सिकाइ लक्ष्य एउटै छ" in text
        assert "A first question to talk about" in text
        # Neither of them got it again in their own DM.
        for user in (BISHAL, NASRIN):
            assert not [c for c in world.posts(user) if HOSPITAL_GOAL in text_of(c)]
        # Rina's trio includes Pema, who has no chat identity: Rina and Dawa each get it in
        # their DM, naming the other two.
        for user, others in ((RINA, ("Dawa Sherpa", "Pema Lama")), (DAWA, ("Rina Akter", "Pema Lama"))):
            intros = [c for c in world.posts(user) if all(o in text_of(c) for o in others)]
            assert len(intros) == 1, [text_of(c) for c in world.posts(user)]


async def test_teams_introduces_each_one_to_one_with_the_others_name(tmp_path: Path) -> None:
    async with open_teams_world(tmp_path, pairing_file(tmp_path)) as world:
        await world.tick(round_instant(0))
        await world.tick(round_instant(0))
        for member, other, other_aad in (
            (TANVIR_AAD, "Vanna Kim", VANNA_AAD),
            (VANNA_AAD, "Tanvir Hossain", TANVIR_AAD),
        ):
            conversations = world.connector.conversations_with(member)
            intros = [
                a
                for cid in conversations
                for a in world.connector.activities(cid)
                if other in (a.get("text") or "")
            ]
            assert len(intros) == 1, intros
            assert f"users={other_aad}" in intros[0]["text"]
            assert f"Chat with {other}" in intros[0]["text"] or "ជជែកជាមួយ" in intros[0]["text"]


def test_the_slack_app_may_open_group_dms() -> None:
    from adapters.slack.manifest import manifest

    scopes = manifest("https://reflect.example.org")["oauth_config"]["scopes"]["bot"]
    # conversations.open with several users needs mpim:write; the bot never reads the group DM.
    assert "mpim:write" in scopes
    assert "message.mpim" not in manifest("https://reflect.example.org")["settings"]["event_subscriptions"]["bot_events"]


async def test_without_the_group_dm_scope_each_gets_the_introduction_in_their_dm(
    database_url: str, tmp_path: Path
) -> None:
    async with open_slack_world(database_url) as world:
        from storage.importer import import_programme

        world.fake.without_mpim_scope = True
        await import_programme(world.server.store, pairing_file(tmp_path))
        world.server.clock.now = round_instant(0)
        await world.server.tick(round_instant(0))
        await world.server.tick(round_instant(0))
        for user in (BISHAL, NASRIN):
            intros = [c for c in world.posts(user) if HOSPITAL_GOAL in text_of(c)]
            assert len(intros) == 1, [text_of(c) for c in world.posts(user)]
            assert "You share the learning goal" in text_of(intros[0])
