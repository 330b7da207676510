"""Microsoft Teams through botbuilder (Bot Framework SDK 4.17).

Microsoft has archived the Bot Framework SDK in favour of the Microsoft 365 Agents SDK: every
botbuilder and botframework import stays inside this folder, so that moving to the Agents SDK
touches nothing else.
"""

from adapters.teams.adapter import TeamsAdapter
from adapters.teams.package import build_teams_package

__all__ = ["TeamsAdapter", "build_teams_package"]
