"""VIP Rewards: everything that ships to Lambda besides app.py."""
