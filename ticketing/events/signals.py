from django.dispatch import Signal

# Sent after bulk writes (`QuerySet.update()`), which fire no model signals, so that caches of the
# published catalogue (the widget's origin cache) drop what they hold. `sender` is the model.
catalogue_changed = Signal()
