"""Background processes: RQ workers (app context per job) and the event relay / timer scheduler."""
