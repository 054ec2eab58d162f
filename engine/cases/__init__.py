"""Cases and their tasks.

Start, step, complete, messages, integrated applications, tracking, and who may see and
do what.
"""
