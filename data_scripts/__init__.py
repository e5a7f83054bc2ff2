"""Command-line entry points over ``course_utils.data`` (``python -m data_scripts.<name>``)."""
