"""target-personio: Staffomatic work timers and absences into Personio."""
