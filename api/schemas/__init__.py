"""Request and response shapes of the JSON API, one module per feature (OpenAPI is generated from them)."""

from api.schemas.auth import MembershipPair, MeRead, TokenRead
from api.schemas.cases import (
    BundleCreate,
    BundleCreated,
    BundleItem,
    CaseCancel,
    CaseCreate,
    CaseCreated,
    CasePage,
    CaseRead,
    CaseStatusRead,
    CaseSummary,
    EventRead,
    MessageCreate,
    TimelineEntry,
    TrackPart,
    TrackRead,
)
from api.schemas.common import AgencyKind, Channel, Model, PlatformRole, Text
from api.schemas.directory import (
    ROLE_KEY,
    AgencyCreate,
    AgencyRead,
    MembershipCreate,
    MembershipRead,
    RoleCreate,
    RoleRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from api.schemas.notifications import (
    AttemptRead,
    DeliveryPage,
    DeliveryRead,
    NotifyEvent,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)
from api.schemas.processes import (
    DeployRead,
    LintRead,
    ProblemItem,
    ProcessDetailRead,
    ProcessLifecycleRead,
    ProcessRead,
    ProcessVersionRead,
    RetirementRead,
)
from api.schemas.tasks import (
    NextStepRead,
    NextTaskRead,
    TaskComplete,
    TaskCompleted,
    TaskDetailRead,
    TaskPage,
    TaskRead,
)

__all__ = [
    "AgencyCreate", "AgencyKind", "AgencyRead", "AttemptRead", "BundleCreate", "BundleCreated", "BundleItem",
    "CaseCancel", "CaseCreate", "CaseCreated", "CasePage", "CaseRead", "CaseStatusRead", "CaseSummary",
    "Channel", "DeliveryPage", "DeliveryRead", "DeployRead", "EventRead", "LintRead", "MeRead",
    "MembershipCreate", "MembershipPair", "MembershipRead", "MessageCreate", "Model", "NextStepRead", "NextTaskRead",
    "NotifyEvent",
    "PlatformRole", "ProblemItem", "ProcessDetailRead", "ProcessLifecycleRead", "ProcessRead", "ProcessVersionRead",
    "ROLE_KEY", "RetirementRead", "RoleCreate", "RoleRead", "TaskComplete", "TaskCompleted", "TaskDetailRead",
    "TaskPage", "TaskRead", "Text",
    "TimelineEntry", "TokenRead", "TrackPart", "TrackRead", "UserCreate", "UserRead", "UserUpdate",
    "WebhookCreate", "WebhookRead", "WebhookUpdate", "WebhookWithSecret",
]
