"""Business-day arithmetic for Mexican administrative terms."""

from app.calendar.business_days import (
    LOCAL_TZ,
    BusinessCalendar,
    deadline_instant,
    local_today,
)

__all__ = ["LOCAL_TZ", "BusinessCalendar", "deadline_instant", "local_today"]
