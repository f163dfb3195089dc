set terminal pngcairo noenhanced size 900,560 font "sans,11"
set grid
set key top left
set logscale y
set xlabel "folio order (0 = 4 KiB, 9 = 2 MiB)"
set xrange [-0.5:9.5]
set xtics 1
set output "/work/main/bench/results/2026-11-27/free-ns-per-folio.png"
set title "vramsim free path per folio (deterministic guest: instructions)"
set ylabel "guest instructions per folio"
plot "/work/main/bench/results/2026-11-27/plot-data/micro-scrub.dat" u 1:2 w lp lw 2 t "full path, prepare=scrub", \
     "/work/main/bench/results/2026-11-27/plot-data/micro-none.dat" u 1:2 w lp lw 2 t "full path, prepare=none", \
     "/work/main/bench/results/2026-11-27/plot-data/micro-bare_prepare.dat" u 1:2 w lp lw 2 t "bare prepare", \
     "/work/main/bench/results/2026-11-27/plot-data/micro-raw_buddy.dat" u 1:2 w lp lw 2 t "raw buddy free"
set output "/work/main/bench/results/2026-11-27/free-throughput.png"
set title "vramsim free throughput per order (deterministic guest)"
set ylabel "GiB per 10^9 guest instructions"
plot "/work/main/bench/results/2026-11-27/plot-data/micro-scrub.dat" u 1:3 w lp lw 2 t "full path, prepare=scrub", \
     "/work/main/bench/results/2026-11-27/plot-data/micro-none.dat" u 1:3 w lp lw 2 t "full path, prepare=none", \
     "/work/main/bench/results/2026-11-27/plot-data/micro-bare_prepare.dat" u 1:3 w lp lw 2 t "bare prepare", \
     "/work/main/bench/results/2026-11-27/plot-data/micro-raw_buddy.dat" u 1:3 w lp lw 2 t "raw buddy free"
set xlabel "buffer size (MiB)"
unset xrange
set xtics auto
set logscale x 2
set output "/work/main/bench/results/2026-11-27/e2e-free.png"
set title "munmap of a migrated buffer: vramsim vs test_hmm (deterministic guest)"
set ylabel "GiB per 10^9 guest instructions"
plot "/work/main/bench/results/2026-11-27/plot-data/e2e-vramsim-1.dat" u 1:2 w lp lw 2 t "vramsim, THP on", \
     "/work/main/bench/results/2026-11-27/plot-data/e2e-vramsim-0.dat" u 1:2 w lp lw 2 t "vramsim, THP off", \
     "/work/main/bench/results/2026-11-27/plot-data/e2e-test_hmm-1.dat" u 1:2 w lp lw 2 t "test_hmm, THP on", \
     "/work/main/bench/results/2026-11-27/plot-data/e2e-test_hmm-0.dat" u 1:2 w lp lw 2 t "test_hmm, THP off"
set output "/work/main/bench/results/2026-11-27/e2e-to-device.png"
set title "migrate to device: vramsim vs test_hmm (deterministic guest)"
set ylabel "GiB per 10^9 guest instructions"
plot "/work/main/bench/results/2026-11-27/plot-data/e2e-vramsim-1.dat" u 1:3 w lp lw 2 t "vramsim, THP on", \
     "/work/main/bench/results/2026-11-27/plot-data/e2e-vramsim-0.dat" u 1:3 w lp lw 2 t "vramsim, THP off", \
     "/work/main/bench/results/2026-11-27/plot-data/e2e-test_hmm-1.dat" u 1:3 w lp lw 2 t "test_hmm, THP on", \
     "/work/main/bench/results/2026-11-27/plot-data/e2e-test_hmm-0.dat" u 1:3 w lp lw 2 t "test_hmm, THP off"
reset
set terminal pngcairo noenhanced size 900,560 font "sans,11"
set grid
set key top left
set key bottom left
set output "/work/main/bench/results/2026-11-27/floor-ratio.png"
set title "free path / its floor, per order (deterministic guest, in-kernel bench)"
set xlabel "folio order (0 = 4 KiB, 9 = 2 MiB)"
set xrange [-0.5:9.5]
set xtics 1
set ylabel "ratio (instructions / instructions)"
set yrange [0:*]
plot "/work/main/bench/results/2026-11-27/plot-data/floor.dat" u 1:2 w lp lw 2 t "none / (core + raw buddy free)", "/work/main/bench/results/2026-11-27/plot-data/floor.dat" u 1:3 w lp lw 2 t "scrub / (core + bare prepare + raw buddy free)", 1.1 w l dt 2 lc rgb "black" t "goal 1.10x"
reset
set terminal pngcairo noenhanced size 900,560 font "sans,11"
set grid
set key top left
set output "/work/main/bench/results/2026-11-27/vram-size-sweep.png"
set title "full free path against the VRAM size (deterministic guest, in-kernel bench)"
set xlabel "vram_size (MiB)"
set logscale xy 2
set key outside right
set ylabel "guest instructions per folio"
plot "/work/main/bench/results/2026-11-27/plot-data/sweep-0-none.dat" u 1:2 w lp lw 2 t "order 0, prepare=none", "/work/main/bench/results/2026-11-27/plot-data/sweep-0-scrub.dat" u 1:2 w lp lw 2 t "order 0, prepare=scrub", "/work/main/bench/results/2026-11-27/plot-data/sweep-9-none.dat" u 1:2 w lp lw 2 t "order 9, prepare=none", "/work/main/bench/results/2026-11-27/plot-data/sweep-9-scrub.dat" u 1:2 w lp lw 2 t "order 9, prepare=scrub"
reset
set terminal pngcairo noenhanced size 900,560 font "sans,11"
set grid
set key top left
set output "/work/main/bench/results/2026-11-27/evict-vs-to-ram.png"
set title "eviction vs MIGRATE_TO_RAM, per folio (deterministic guest)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "guest instructions per folio"
plot "/work/main/bench/results/2026-11-27/plot-data/evict.dat" u 2:xtic(1) t "evicted by a migration to the device", "" u 3 t "DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM"
