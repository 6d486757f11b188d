"""ROC AUC shared by the evaluation scripts (imported from the same folder)."""


def auc(positives, negatives):
    """ROC AUC by the Mann-Whitney count (ties count one half); None without both classes."""
    if not positives or not negatives:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))
