"""Offender tracking: the master name index, court, corrections and supervision records,
source-system feeds, person matching, timelines and statistical reports."""
