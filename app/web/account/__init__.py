"""Account security pages: password change and reset, and the security log for administrators."""
