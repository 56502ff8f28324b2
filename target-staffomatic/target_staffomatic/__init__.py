"""target-staffomatic: Personio employees and absences into Staffomatic."""
