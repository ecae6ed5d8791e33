"""Generic list / form / confirmation / task views and forms, shared by every app's UI."""
