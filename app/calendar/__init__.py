"""Business-day arithmetic for Mexican administrative terms."""

from app.calendar.business_days import (
    LOCAL_TZ,
    BusinessCalendar,
    deadline_instant,
    load_statutory_holidays,
    local_today,
)

__all__ = ["LOCAL_TZ", "BusinessCalendar", "deadline_instant", "load_statutory_holidays", "local_today"]
