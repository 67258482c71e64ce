"""Call scripts: what a call says, asks and does with the keys pressed, as a graph of steps."""
