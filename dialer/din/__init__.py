"""Xoxzo Dial In Numbers: numbers people call back, and the action server that answers them."""
