"""The schema: the areas' queries and mutations merged, with the limits and the production
settings as extensions. ``python -m graphql_api.schema`` prints the SDL (``schema.graphql``)."""

from __future__ import annotations

import re
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from graphql_api.alerts.mutations import AlertMutation
from graphql_api.alerts.queries import AlertQuery
from graphql_api.assistance.mutations import AssistanceMutation
from graphql_api.assistance.queries import AssistanceQuery
from graphql_api.clock import ClockQuery
from graphql_api.deliveries.mutations import DeliveryMutation
from graphql_api.deliveries.queries import DeliveryQuery
from graphql_api.enterprises.mutations import EnterpriseMutation
from graphql_api.enterprises.queries import EnterpriseQuery
from graphql_api.geo.queries import GeoQuery
from graphql_api.grid.mutations import GridMutation
from graphql_api.grid.queries import GridQuery
from graphql_api.households.policy import PolicyMutation, PolicyQuery
from graphql_api.households.push import PushMutation
from graphql_api.households.queries import HouseholdQuery
from graphql_api.households.register import RegisterMutation
from graphql_api.households.status import StatusMutation
from graphql_api.limits import query_cost_rule
from graphql_api.monitoring.mutations import MonitoringMutation
from graphql_api.monitoring.queries import MonitoringQuery
from graphql_api.node import NodeQuery
from graphql_api.notify.mutations import NotifyMutation
from graphql_api.notify.queries import NotifyQuery
from graphql_api.redact import submitted_values, without_values
from graphql_api.referrals.mutations import ReferralMutation
from graphql_api.referrals.queries import ReferralQuery
from graphql_api.reports.mutations import ReportMutation
from graphql_api.reports.queries import ReportQuery
from graphql_api.requests.mutations import RequestMutation
from graphql_api.requests.queries import RequestQuery
from graphql_api.settings import DEFAULT_MAX_COST, ApiSettings, Mode
from graphql_api.staff.mutations import StaffMutation
from graphql_api.staff.queries import StaffQuery
from graphql_api.sweeps.chat import ChatMutation, ChatQuery
from graphql_api.sweeps.mutations import SweepMutation
from graphql_api.sync.mutations import SyncMutation
from graphql_api.testing_campaigns.mutations import TestingCampaignMutation
from graphql_api.testing_campaigns.queries import TestingCampaignQuery
from graphql_api.tracing.mutations import TracingMutation
from graphql_api.tracing.queries import TracingQuery
from graphql_api.watch.subscriptions import Subscription
from graphql_api.zoning.mutations import ZoningMutation
from graphql_api.zoning.queries import ZoningQuery

Query = merge_types("Query", (NodeQuery, GridQuery, HouseholdQuery, ReferralQuery, DeliveryQuery,
                              EnterpriseQuery, RequestQuery, AlertQuery, StaffQuery,
                              ClockQuery, PolicyQuery, ChatQuery, TracingQuery,
                              AssistanceQuery, TestingCampaignQuery, MonitoringQuery,
                              NotifyQuery, GeoQuery, ZoningQuery, ReportQuery))
Mutation = merge_types("Mutation", (StatusMutation, SweepMutation, RequestMutation,
                                    AlertMutation, ReferralMutation, DeliveryMutation,
                                    EnterpriseMutation, SyncMutation, GridMutation,
                                    StaffMutation, RegisterMutation, PushMutation, PolicyMutation,
                                    ChatMutation, TracingMutation, AssistanceMutation,
                                    TestingCampaignMutation, MonitoringMutation,
                                    NotifyMutation, ZoningMutation, ReportMutation))


def unexpected(error: GraphQLError) -> bool:
    """An error raised by a resolver (it may carry SQL or internals), not a fault of the
    document (syntax, validation, limits) whose message says what to fix."""
    return error.original_error is not None and not isinstance(error.original_error,
                                                                GraphQLError)


_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$", re.DOTALL)


class ProductionErrors(MaskErrors):
    """Production error messages: a resolver's error becomes "Unexpected error."; a document's
    fault keeps its message without "Did you mean ...?" (which would list the schema's names
    while introspection is off) and without the values the request submitted
    (``graphql_api.redact``)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: True)
        self._submitted: list[str] | None = None

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if unexpected(error):
            return super().anonymise_error(error)
        if self._submitted is None:
            ec = self.execution_context
            self._submitted = submitted_values(ec.graphql_document, ec.variables)
        message = without_values(_SUGGESTION.sub("", error.message), self._submitted)
        return GraphQLError(message=message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions=error.extensions)


def build_schema(settings: ApiSettings | None = None) -> strawberry.Schema:
    production = settings is not None and settings.mode is Mode.PRODUCTION
    depth, aliases, tokens = ((settings.max_depth, settings.max_aliases, settings.max_tokens)
                              if settings else (10, 30, 2000))
    cost = query_cost_rule(settings.max_cost if settings else DEFAULT_MAX_COST,
                           settings.page_max if settings else 100)
    # Factories, not instances: strawberry builds fresh extensions for each request.
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=tokens),
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: QueryDepthLimiter(max_depth=depth),
        lambda: MaxAliasesLimiter(max_alias_count=aliases),
        lambda: AddValidationRules([cost]),
    ]
    if production:
        extensions += [DisableIntrospection, ProductionErrors]
    return strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription,
                             extensions=extensions)


def sdl() -> str:
    return build_schema().as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
