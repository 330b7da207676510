"""APScheduler drives the clock: sweeps that compute what is due from storage."""
