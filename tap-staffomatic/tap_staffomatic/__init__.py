"""tap-staffomatic: a Singer tap reading people, absences and time tracking from Staffomatic."""
