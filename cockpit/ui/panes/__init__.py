"""The four panes of the cockpit and the widgets they are made of; each reads only the snapshots it is given."""
