"""Tree freshness: trees due for review, and trees whose sessions now fail more often."""
