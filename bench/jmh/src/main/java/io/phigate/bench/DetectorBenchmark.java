package io.phigate.bench;

import io.phigate.mask.detect.DetectorSettings;
import io.phigate.mask.detect.Detectors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link Detectors#scrub} on a clinical note of about 300 chars, all detectors on, default threshold:
 * <ul>
 *   <li>{@code clean}: no digit, {@code @} or link, so only the trigger scan runs;</li>
 *   <li>{@code numbers}: doses, times and counts but no PHI, so every digit-triggered pattern runs and finds nothing;</li>
 *   <li>{@code phi}: the same note with an SSN, a phone, an email and a date, all replaced.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DetectorBenchmark {
    static final String CLEAN = "Patient seen in clinic for follow up of hypertension. Reports good adherence to "
            + "medication, no chest pain, no shortness of breath. Mild ankle swelling in the evenings. Plan: continue "
            + "current regimen, reduce salt intake, recheck blood pressure and renal function at the next visit. "
            + "Discussed warning signs and when to seek care.";
    static final String NUMBERS = "Patient seen in clinic for follow up of hypertension. BP 142/88, HR 76, weight "
            + "81.4 kg. Takes lisinopril 20 mg once daily and amlodipine 5 mg. No chest pain, walked 3 km twice a "
            + "week. Plan: increase lisinopril to 40 mg, recheck in 4 weeks, labs: creatinine 1.1, potassium 4.6, "
            + "eGFR 72. Room 12, bed 3.";
    static final String PHI = "Patient seen in clinic for follow up of hypertension, DOB 03/05/1984, SSN "
            + "123-45-6789. BP 142/88, HR 76. Takes lisinopril 20 mg once daily. Daughter can be reached at "
            + "(617) 555-0142 or jane.doe@example.com. Plan: increase lisinopril to 40 mg, recheck in 4 weeks, "
            + "labs: creatinine 1.1, potassium 4.6. Room 12, bed 3.";

    @Param({"clean", "numbers", "phi"})
    public String note;

    private Detectors detectors;
    private String text;

    @Setup
    public void setUp() {
        detectors = Detectors.create(DetectorSettings.defaults());
        text = switch (note) {
            case "clean" -> CLEAN;
            case "numbers" -> NUMBERS;
            default -> PHI;
        };
    }

    @Benchmark
    public String scrub() {
        return detectors.scrub(text);
    }
}
