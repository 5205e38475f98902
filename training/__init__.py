"""Courses, class sessions, enrollment, certification tests and certificates; the gate that
keeps uncertified users out of OBTS and CISS."""
