"""Notifications leaving gridcore (通知与宣传): the channels (``channels``: a WeCom group
robot, an SMS gateway, SMTP), the outbox's notifier and sender (``outbox``), their settings
(``settings``) and the loop ``gridcore notify run`` runs (``run``)."""
