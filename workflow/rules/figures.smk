def all_targets():
    runs = lj_runs() + mc_runs() + nve_runs() + free_runs()
    return [f"{r}/state.nc" for r in runs + acceptance_runs()]
